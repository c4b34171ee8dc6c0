#include "torchprobe/run/shard.h"

#include <gtest/gtest.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

TEST(Shard, ParsesKOfN) {
  Shard shard = Shard::parse("2/4");
  EXPECT_EQ(shard.index, 2);
  EXPECT_EQ(shard.count, 4);
  EXPECT_EQ(shard.to_string(), "2/4");
  EXPECT_FALSE(shard.whole());
  EXPECT_TRUE(Shard::parse("1/1").whole());
}

TEST(Shard, OwnsEveryNthBatchFromKMinusOne) {
  Shard second = Shard::parse("2/3");
  std::vector<int64_t> owned;
  for (int64_t b = 0; b < 9; ++b) {
    if (second.owns(b)) owned.push_back(b);
  }
  EXPECT_EQ(owned, (std::vector<int64_t>{1, 4, 7}));
}

TEST(Shard, EveryBatchBelongsToExactlyOneShard) {
  for (int64_t n = 1; n <= 7; ++n) {
    for (int64_t b = 0; b < 50; ++b) {
      int owners = 0;
      for (int64_t k = 1; k <= n; ++k) owners += Shard{k, n}.owns(b);
      EXPECT_EQ(owners, 1) << "batch " << b << " of " << n << " shards";
    }
  }
}

TEST(Shard, RejectsAnythingButKOfNWithKFromOne) {
  for (const char* text : {"0/4", "5/4", "1/0", "0/0", "1", "1-4", "a/b", "/4", "1/", "-1/4",
                           " 1/4", "1/4 ", "1/99999999"}) {
    try {
      Shard::parse(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const UsageError& e) {
      EXPECT_EQ(e.message_template(),
                std::string("bad {shard} '") + text + "': expected K/N with 1 <= K <= N, e.g. 1/4");
      EXPECT_EQ(e.code(), ExitCode::kUsage);
    }
  }
}

}  // namespace
}  // namespace torchprobe
