#include "torchprobe/detail/closest_names.h"

#include <gtest/gtest.h>

namespace torchprobe::detail {
namespace {

TEST(ClosestNames, SuggestsNearbyNamesClosestFirst) {
  const std::vector<std::string> commands = {"layers", "run", "render", "merge"};
  EXPECT_EQ(closest_names("runn", commands), (std::vector<std::string>{"run"}));
  EXPECT_EQ(closest_names("rendr", commands), (std::vector<std::string>{"render", "run"}));
  EXPECT_EQ(closest_names("xyzzyqqq", commands), std::vector<std::string>{});
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ClosestNames, DidYouMeanListsThemQuoted) {
  EXPECT_EQ(did_you_mean({"run", "render"}), "did you mean 'run', 'render'?");
  EXPECT_EQ(did_you_mean({}), "");
}

}  // namespace
}  // namespace torchprobe::detail
