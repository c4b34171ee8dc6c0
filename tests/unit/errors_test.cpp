#include "torchprobe/errors.h"

#include <gtest/gtest.h>

namespace torchprobe {
namespace {

TEST(Errors, SettingsAreRenderedByTheGivenNamer) {
  auto upper = [](const std::string& field) { return "<" + field + ">"; };
  EXPECT_EQ(render_settings("give {resume} or {force}", upper), "give <resume> or <force>");
  EXPECT_EQ(with_field_names("bad {batch_size}: must be at least 1"),
            "bad `batch_size`: must be at least 1");
}

TEST(Errors, BracesThatNameNoSettingStayAsGiven) {
  auto namer = [](const std::string&) { return std::string("X"); };
  EXPECT_EQ(render_settings("file 'a{b}.jpg' and {\"k\": 1} {", namer),
            "file 'a{b}.jpg' and {\"k\": 1} {");
  EXPECT_EQ(render_settings("no settings", namer), "no settings");
}

TEST(Errors, WhatAndHintNameSettingsByFieldTemplatesKeepTheBraces) {
  UsageError error("bad {shard} '0/4'", "shards are numbered from 1; see {resume}");
  EXPECT_STREQ(error.what(), "bad `shard` '0/4'");
  EXPECT_EQ(error.hint(), "shards are numbered from 1; see `resume`");
  EXPECT_EQ(error.message_template(), "bad {shard} '0/4'");
  EXPECT_EQ(error.hint_template(), "shards are numbered from 1; see {resume}");
}

}  // namespace
}  // namespace torchprobe
