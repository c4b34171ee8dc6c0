// LD_PRELOAD shim for the tests: a deterministic "kill -9 at byte B" of a run writing JSON Lines.
// With TORCHPROBE_TEST_KILL_AFTER_BYTES=B in the environment, the process writes exactly B bytes
// to .jsonl files (the last write cut part-way, leaving a torn line) and dies at once with exit
// status 137, as under SIGKILL at that point of the file. Without the variable it changes nothing.
// Kept out of torchprobe itself: the release binary has no test hooks (tests/CMakeLists.txt builds
// this as torchprobe_kill_after_bytes; tests/cli/test_jsonl_resume.py preloads it).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

namespace {

using WriteFn = ssize_t (*)(int, const void*, size_t);

long long byte_limit() {
  static const long long limit = [] {
    const char* value = std::getenv("TORCHPROBE_TEST_KILL_AFTER_BYTES");
    return value && *value ? std::atoll(value) : -1LL;
  }();
  return limit;
}

bool is_jsonl_file(int fd) {
  char link[64];
  char path[PATH_MAX];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n < 6) return false;
  path[n] = '\0';
  return std::strcmp(path + n - 6, ".jsonl") == 0;
}

}  // namespace

extern "C" ssize_t write(int fd, const void* data, size_t size) {
  static const WriteFn real_write = reinterpret_cast<WriteFn>(dlsym(RTLD_NEXT, "write"));
  static long long written = 0;
  const long long limit = byte_limit();
  if (limit < 0 || !is_jsonl_file(fd)) return real_write(fd, data, size);
  if (written + static_cast<long long>(size) <= limit) {
    ssize_t n = real_write(fd, data, size);
    if (n > 0) written += n;
    return n;
  }
  const size_t part = static_cast<size_t>(limit - written);
  for (size_t done = 0; done < part;) {
    ssize_t n = real_write(fd, static_cast<const char*>(data) + done, part - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::_exit(137);
}
