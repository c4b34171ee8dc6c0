#pragma once
// Putting the parts of a sharded run back together (`torchprobe merge PARTS... -o ALL.jsonl`).
//
//   torchprobe::MergeSummary s =
//       torchprobe::merge_results({"part-1-of-2.jsonl", "part-2-of-2.jsonl"}, "all.jsonl", {});
//
// Checks, each a ResultsFormatError (exit 60) naming the part:
//   - every part is a torchprobe JSON Lines output (a torn last line counts as missing records);
//   - its header's numbers are in range: stimulus_list.count >= 0, shard 1 <= K <= N <= 1000000,
//     0 <= shard.stimuli <= stimulus_list.count (a damaged or edited header is refused, not used);
//   - the headers agree in every field but "shard" and "model.path";
//   - the parts are shards K/N of one N, each K at most once (an unsharded output is 1/1);
//   - no stimulus (record "index") appears twice, and every index is within the list;
//   - no stimulus of the list is missing: the error says which, and which parts are incomplete.
// The records are written in stimulus order (a k-way merge on "index": memory stays flat),
// copied byte for byte, under the first part's header without "shard", so that the result
// equals the unsharded run's output. The output is written atomically (a temporary file renamed
// on success); a path not ending in .jsonl gets one JSON document (held in memory).
#include <cstdint>
#include <string>
#include <vector>

namespace torchprobe {

struct MergeOptions {
  bool force = false;  // overwrite an existing output (else OutputError kOutputExists)
};

struct MergeSummary {
  int64_t parts = 0;
  int64_t records = 0;
  int64_t bad = 0;  // error records (from skip_bad)
};

// Throws ResultsFormatError, OutputError.
MergeSummary merge_results(const std::vector<std::string>& parts, const std::string& output,
                           const MergeOptions& options);

}  // namespace torchprobe
