#include "torchprobe/output/output_format.h"

#include <gtest/gtest.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

TEST(OutputFormat, ExtensionChoosesTheFormat) {
  EXPECT_EQ(output_format_for("out.jsonl"), OutputFormat::kJsonLines);
  EXPECT_EQ(output_format_for("OUT.JSONL"), OutputFormat::kJsonLines);
  EXPECT_EQ(output_format_for("out.json"), OutputFormat::kJsonDocument);
  EXPECT_EQ(output_format_for("out"), OutputFormat::kJsonDocument);
  EXPECT_EQ(output_format_for("/dev/stdout"), OutputFormat::kJsonDocument);
}

TEST(OutputFormat, OtherExtensionsAndEmptyPathsAreRefusedNamingThePath) {
  for (const char* bad : {"out.csv", "out.txt", "dir/out.npy"}) {
    try {
      output_format_for(bad);
      FAIL() << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos);
    }
  }
  EXPECT_THROW(output_format_for(""), UsageError);
}

}  // namespace
}  // namespace torchprobe
