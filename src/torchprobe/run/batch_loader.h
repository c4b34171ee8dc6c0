#pragma once
// The input side of the probing pipeline: worker threads prepare the next batches (decode,
// resize, normalise, stack) while the calling thread runs the model on the current one.
//
//   torchprobe::detail::BatchLoader loader(0, batch_count, /*workers=*/2,
//                                          [&](std::size_t b) { return prepare(b); });
//   for (std::size_t b = 0; b < batch_count; ++b) {
//     torchprobe::detail::PreparedBatch batch = loader.next();   // in order; rethrows prepare's
//     error
//   }
//
// At most 2 x workers batches are prepared ahead of the consumer (a bounded queue), so memory
// does not grow with the number of stimuli. With 0 workers, next() prepares on the calling thread.
#include <ATen/ATen.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace torchprobe::detail {

struct PreparedBatch {
  std::vector<int64_t> indices;                    // stimuli stacked into `input`, in order
  std::vector<std::optional<std::string>> sha256;  // per stacked stimulus (files only)
  at::Tensor input;               // [n, C, H, W]; undefined when no stimulus rendered
  int64_t height = 0, width = 0;  // the stimuli's input size (H, W unless cropped)
  bool cropped = false;           // input holds only the default crop box
  std::vector<std::pair<int64_t, std::string>> failed;  // skipped stimuli: index and message
};

class BatchLoader {
 public:
  using Prepare = std::function<PreparedBatch(std::size_t batch)>;

  // Prepares batches first, first+1, ..., end-1.
  BatchLoader(std::size_t first, std::size_t end, int workers, Prepare prepare);
  ~BatchLoader();  // stops the workers and waits for them
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // The next batch in order. Rethrows whatever prepare threw for it.
  PreparedBatch next();

 private:
  struct Slot {
    PreparedBatch batch;
    std::exception_ptr error;
  };
  void work();

  Prepare prepare_;
  std::size_t end_;
  std::size_t depth_;
  std::size_t next_claim_;  // the next batch a worker takes up
  std::size_t next_take_;   // the next batch next() returns
  bool stop_ = false;
  std::map<std::size_t, Slot> ready_;
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable ready_cv_;
  std::vector<std::thread> threads_;
};

}  // namespace torchprobe::detail
