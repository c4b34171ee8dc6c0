#include "torchprobe/run/shard.h"

#include "torchprobe/errors.h"
#include "torchprobe/numbers.h"

namespace torchprobe {
Shard Shard::parse(const std::string& text) {
  Shard shard;
  auto slash = text.find('/');
  if (slash == std::string::npos || !parse_digits(text.substr(0, slash), 7, shard.index) ||
      !parse_digits(text.substr(slash + 1), 7, shard.count) || shard.count < 1 ||
      shard.count > kMaxCount || shard.index < 1 || shard.index > shard.count) {
    throw UsageError("bad {shard} '" + text + "': expected K/N with 1 <= K <= N, e.g. 1/4",
                     "shards are numbered from 1");
  }
  return shard;
}

}  // namespace torchprobe
