#pragma once
// Splitting one probing run over several processes or machines.
//
//   torchprobe::Shard shard = torchprobe::Shard::parse("2/4");   // the second of four parts
//   bool mine = shard.owns(batch_number);
//
// A run groups its stimulus list into batches exactly as an unsharded run would (consecutive
// stimuli of the same input size, batch_size at a time), numbers them 0, 1, 2, ... over the
// whole list, and shard K/N probes the batches b with b % N == K - 1. Every record is therefore
// computed in the same batch as in a single run, so the merged parts equal the single run's
// output byte for byte, and the split is the same on every machine.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace torchprobe {

struct Shard {
  static constexpr int64_t kMaxCount = 1000000;

  int64_t index = 1;  // K, 1-based
  int64_t count = 1;  // N

  // "K/N" with 1 <= K <= N <= kMaxCount. Throws UsageError.
  static Shard parse(const std::string& text);
  bool whole() const { return count == 1; }
  bool owns(int64_t batch_number) const { return batch_number % count == index - 1; }
  std::string to_string() const { return std::to_string(index) + "/" + std::to_string(count); }
};

}  // namespace torchprobe
