#include "torchprobe/run/batch_loader.h"

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <stdexcept>
#include <thread>

namespace torchprobe::detail {
namespace {

PreparedBatch numbered(std::size_t b) {
  PreparedBatch out;
  out.indices = {int64_t(b)};
  return out;
}

TEST(BatchLoader, ReturnsBatchesInOrderWhateverTheWorkers) {
  for (int workers : {0, 1, 2, 5}) {
    BatchLoader loader(3, 40, workers, [](std::size_t b) {
      // Later batches finish first now and then.
      std::this_thread::sleep_for(std::chrono::microseconds((b * 7919) % 500));
      return numbered(b);
    });
    for (std::size_t b = 3; b < 40; ++b) {
      EXPECT_EQ(loader.next().indices, std::vector<int64_t>{int64_t(b)}) << workers << " workers";
    }
  }
}

TEST(BatchLoader, RethrowsABatchsErrorWhenThatBatchIsReached) {
  BatchLoader loader(0, 10, 3, [](std::size_t b) {
    if (b == 4) throw std::runtime_error("bad batch 4");
    return numbered(b);
  });
  for (std::size_t b = 0; b < 4; ++b) EXPECT_EQ(loader.next().indices[0], int64_t(b));
  EXPECT_THROW(
      {
        try {
          loader.next();
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "bad batch 4");
          throw;
        }
      },
      std::runtime_error);
}  // the destructor stops the workers that went on with batches 5..

TEST(BatchLoader, PreparesAtMostTwiceTheWorkersAhead) {
  std::atomic<std::size_t> highest{0};
  BatchLoader loader(0, 100, 2, [&](std::size_t b) {
    std::size_t seen = highest.load();
    while (b > seen && !highest.compare_exchange_weak(seen, b)) {
    }
    return numbered(b);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(highest.load(), 3u) << "4 batches (0..3) ahead of a consumer that took none";
  for (std::size_t b = 0; b < 10; ++b) loader.next();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(highest.load(), 13u);
}

}  // namespace
}  // namespace torchprobe::detail
