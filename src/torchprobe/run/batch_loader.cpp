#include "torchprobe/run/batch_loader.h"

#include <algorithm>

namespace torchprobe::detail {

BatchLoader::BatchLoader(std::size_t first, std::size_t end, int workers, Prepare prepare)
    : prepare_(std::move(prepare)),
      end_(end),
      depth_(std::size_t(std::max(2, 2 * workers))),
      next_claim_(first),
      next_take_(first) {
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void BatchLoader::work() {
  for (;;) {
    std::size_t batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(
          lock, [&] { return stop_ || next_claim_ >= end_ || next_claim_ < next_take_ + depth_; });
      if (stop_ || next_claim_ >= end_) return;
      batch = next_claim_++;
    }
    Slot slot;
    try {
      slot.batch = prepare_(batch);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(batch, std::move(slot));
    }
    ready_cv_.notify_all();
  }
}

PreparedBatch BatchLoader::next() {
  if (threads_.empty()) return prepare_(next_take_++);
  Slot slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_take_) > 0; });
    auto it = ready_.find(next_take_);
    slot = std::move(it->second);
    ready_.erase(it);
    ++next_take_;
  }
  work_cv_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

}  // namespace torchprobe::detail
