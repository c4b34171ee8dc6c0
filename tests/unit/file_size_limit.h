#pragma once
// Test helper: a real file size limit (ulimit -f) for a scope, as on a full disk.
//
//   { FileSizeLimit limit(64 * 1024); /* writes past 64 KiB now fail with EFBIG */ }
#include <csignal>
#include <sys/resource.h>

namespace torchprobe::test_support {

// A real file size limit (ulimit -f) for the scope, with SIGXFSZ ignored as the CLI does, so
// write(2) fails with EFBIG past the limit.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    saved_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, saved_handler_);
  }

 private:
  rlimit saved_{};
  void (*saved_handler_)(int) = nullptr;
};

}  // namespace torchprobe::test_support
