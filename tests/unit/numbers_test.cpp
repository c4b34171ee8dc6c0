#include "torchprobe/numbers.h"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

TEST(Numbers, TolerancesMustBeFiniteAndNotNegative) {
  EXPECT_NO_THROW(require_tolerance("atol", 0));
  EXPECT_NO_THROW(require_tolerance("atol", 1e-4));
  for (double bad : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    try {
      require_tolerance("atol", bad);
      FAIL() << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("`atol`"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace torchprobe
