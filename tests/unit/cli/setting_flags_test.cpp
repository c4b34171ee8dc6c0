#include "cli/setting_flags.h"

#include <gtest/gtest.h>

#include "torchprobe/errors.h"

namespace torchprobe::cli {
namespace {

TEST(SettingFlags, EverySettingTheLibraryNamesHasAFlag) {
  for (const auto& field : setting_fields()) {
    EXPECT_EQ(flag_for(field).rfind("-", 0), 0u) << field << " has no flag";
  }
}

TEST(SettingFlags, MessagesAreShownWithFlags) {
  EXPECT_EQ(with_flags("give {resume} to continue it, or {force} to overwrite it"),
            "give --resume to continue it, or --force to overwrite it");
  EXPECT_EQ(with_flags("choose another {output}; bad {batch_size}"),
            "choose another -o; bad --batch-size");
}

}  // namespace
}  // namespace torchprobe::cli
