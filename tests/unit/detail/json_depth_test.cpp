#include "torchprobe/detail/json_depth.h"

#include <gtest/gtest.h>
#include <string>

namespace torchprobe {
namespace {

TEST(JsonDepth, CountsNestedArraysAndObjects) {
  EXPECT_TRUE(json_depth_within("1", 0));
  EXPECT_TRUE(json_depth_within("{\"a\":[1,{\"b\":[]}]}", 4));
  EXPECT_FALSE(json_depth_within("{\"a\":[1,{\"b\":[]}]}", 3));
  EXPECT_TRUE(json_depth_within("[[],[],[[]]]", 3));  // siblings do not add up
  EXPECT_FALSE(json_depth_within(std::string(65, '[') + std::string(65, ']'), kMaxJsonDepth));
  EXPECT_TRUE(json_depth_within(std::string(64, '[') + std::string(64, ']'), kMaxJsonDepth));
}

TEST(JsonDepth, BracketsInStringsAreNotNesting) {
  EXPECT_TRUE(json_depth_within("[\"[[[{{{\"]", 1));
  EXPECT_TRUE(json_depth_within("[\"a\\\"[[[\"]", 1));  // an escaped quote does not end the string
  EXPECT_TRUE(json_depth_within("[\"\\\\\",\"[[\"]", 1));  // nor does an escaped backslash's quote
  EXPECT_FALSE(json_depth_within("[\"\\\\\",[[]]]", 2));
}

}  // namespace
}  // namespace torchprobe
