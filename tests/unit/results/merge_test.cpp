#include "torchprobe/results/merge.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scratch_dir.h"
#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

// Parts of a run over three stimuli a, b, c: shard K/N holds the indices given.
class MergeResults : public test_support::ScratchDirTest {
 protected:
  MergeResults() : ScratchDirTest("merge") {}

  static nlohmann::json header(const nlohmann::json& shard) {
    nlohmann::json out = {{"torchprobe", {{"version", "1"}}},
                          {"stimulus_list", {{"count", 3}, {"sha256", "abc"}}}};
    if (!shard.is_null()) out["shard"] = shard;
    return out;
  }
  static nlohmann::json shard(const nlohmann::json& index, const nlohmann::json& count,
                              const nlohmann::json& stimuli) {
    return {{"index", index}, {"count", count}, {"stimuli", stimuli}};
  }
  // A part file `name` under `head`, holding the records of `indices`.
  std::string part(const std::string& name, const nlohmann::json& head,
                   const std::vector<int>& indices) {
    std::string text = head.dump() + "\n";
    for (int i : indices) text += record(i) + "\n";
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  static std::string record(int index) {
    return nlohmann::json{{"id", std::string(1, char('a' + index))}, {"index", index}}.dump();
  }
  // The message of the ResultsFormatError that merging `parts` throws ("" if none), checking
  // that no output is left behind.
  std::string merge_error(const std::vector<std::string>& parts) {
    try {
      merge_results(parts, path("merged.jsonl"), {});
    } catch (const ResultsFormatError& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadResults);
      EXPECT_FALSE(std::filesystem::exists(path("merged.jsonl")));
      return e.what();
    }
    return "";
  }
};

TEST_F(MergeResults, MergesShardsInStimulusOrderUnderAHeaderWithoutShard) {
  std::string second = part("p2.jsonl", header(shard(2, 2, 1)), {1});
  std::string first = part("p1.jsonl", header(shard(1, 2, 2)), {0, 2});
  MergeSummary summary = merge_results({second, first}, path("merged.jsonl"), {});
  EXPECT_EQ(summary.records, 3);
  EXPECT_EQ(read(path("merged.jsonl")),
            header(nullptr).dump() + "\n" + record(0) + "\n" + record(1) + "\n" + record(2) + "\n");
}

// Issue 16: shard index 0 or past the count indexed outside a table of `count` slots (SIGSEGV).
TEST_F(MergeResults, RefusesAShardIndexOutsideOneToCount) {
  std::string first = part("p1.jsonl", header(shard(1, 2, 2)), {0, 2});
  for (int64_t index : {int64_t(0), int64_t(3), int64_t(1000000), int64_t(-1)}) {
    std::string second = part("p2.jsonl", header(shard(index, 2, 1)), {1});
    EXPECT_EQ(merge_error({first, second}), "cannot read results '" + second +
                                                "': its header's shard.index " +
                                                std::to_string(index) + " is outside 1..2");
  }
}

// Issue 16: a huge count was allocated as a table of that many slots (bad_alloc, exit 70).
TEST_F(MergeResults, RefusesAShardCountAboveTheShardLimit) {
  std::string first = part("p1.jsonl", header(shard(1, 1000000000000000, 2)), {0, 2});
  std::string second = part("p2.jsonl", header(shard(2, 1000000000000000, 1)), {1});
  EXPECT_EQ(merge_error({first, second}),
            "cannot read results '" + first +
                "': its header's shard.count 1000000000000000 is outside 1..1000000");
  part("p1.jsonl", header(shard(1, 0, 2)), {0, 2});
  EXPECT_EQ(
      merge_error({first, second}),
      "cannot read results '" + first + "': its header's shard.count 0 is outside 1..1000000");
}

TEST_F(MergeResults, RefusesAnIndexTooLargeForInt64) {
  std::string first = part("p1.jsonl", header(shard(1, 2, 2)), {0, 2});
  std::string second = part("p2.jsonl", header(shard(uint64_t(18446744073709551615u), 2, 1)), {1});
  EXPECT_EQ(merge_error({first, second}),
            "cannot read results '" + second +
                "': its header's shard.index 18446744073709551615 is outside 1..2");
}

TEST_F(MergeResults, RefusesShardStimuliOutsideTheListAndANegativeListSize) {
  std::string first = part("p1.jsonl", header(shard(1, 2, 4)), {0, 2});
  std::string second = part("p2.jsonl", header(shard(2, 2, 1)), {1});
  EXPECT_EQ(merge_error({first, second}),
            "cannot read results '" + first + "': its header's shard.stimuli 4 is outside 0..3");
  nlohmann::json negative = header(nullptr);
  negative["stimulus_list"]["count"] = -1;
  std::string whole = part("all.jsonl", negative, {});
  EXPECT_EQ(merge_error({whole}), "cannot read results '" + whole +
                                      "': its header's stimulus_list.count -1 is outside "
                                      "0..9223372036854775807");
}

TEST_F(MergeResults, RefusesAShardThatIsNotAnObject) {
  std::string first = part("p1.jsonl", header("1/2"), {0, 2});
  EXPECT_EQ(merge_error({first}),
            "cannot read results '" + first + "': its header's \"shard\" is not an object");
}

// Shards not given are named up to a bound, not one by one for a million shards.
TEST_F(MergeResults, NamesTheFirstAbsentShardsAndCountsTheRest) {
  std::string first = part("p1.jsonl", header(shard(1, 1000000, 1)), {0});
  std::string third = part("p3.jsonl", header(shard(3, 1000000, 1)), {2});
  EXPECT_EQ(merge_error({first, third}),
            "cannot merge: 1 of 3 stimuli are missing (indices 1); no part is shard 2/1000000; "
            "no part is shard 4/1000000; no part is shard 5/1000000; no part is shard "
            "6/1000000; no part is shard 7/1000000; no part is shard 8/1000000; no part is "
            "shard 9/1000000; no part is shard 10/1000000; and 999990 more shards are not given");
}

TEST_F(MergeResults, RefusesARecordNestedDeeperThanTheBound) {
  std::string first = part("p1.jsonl", header(shard(1, 2, 2)), {0, 2});
  std::string second = part("p2.jsonl", header(shard(2, 2, 1)), {});
  std::ofstream(second, std::ios::app)
      << "{\"id\":\"b\",\"index\":1,\"x\":" << std::string(100000, '[') << std::string(100000, ']')
      << "}\n";
  std::string error;
  try {
    merge_results({first, second}, path("merged.json"), {});  // a document: records re-written
  } catch (const ResultsFormatError& e) {
    error = e.what();
  }
  EXPECT_EQ(error, "cannot read results '" + second +
                       "': line 2 nests arrays and objects more than 64 deep (not written by "
                       "torchprobe)");
}

}  // namespace
}  // namespace torchprobe
