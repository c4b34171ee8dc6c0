#pragma once
// Writing a file so that readers never see it half-written: the content goes to a temporary
// file in the same directory, which is flushed and renamed over the destination on commit().
//
//   torchprobe::AtomicFile out("results.json");  // OutputError if the directory is unwritable
//   out.stream() << text;
//   out.commit();  // OutputError (e.g. disk full); else renamed over results.json
//   // destroyed without commit(): the temporary file is removed, the destination untouched
//
// A failed write (disk full, file size limit) is reported by commit() with the reason the system
// gave, and the temporary file is removed on every failure: a failed commit() or any exception
// that destroys the AtomicFile before commit().
// NOTE: a destination that exists and is not a regular file (/dev/stdout, a named pipe) is written
// in place: renaming a file over a device node would replace the device (as root, it can).
#include <memory>
#include <ostream>
#include <string>

namespace torchprobe {

namespace detail {
class FdStreamBuffer;
}

// OutputError (exit 50) "cannot write output 'PATH': it is a directory", whatever {force} says.
[[noreturn]] void throw_output_is_directory(const std::string& path);

class AtomicFile {
 public:
  explicit AtomicFile(std::string destination);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return stream_; }
  // Flushes and renames the temporary file over the destination. Throws OutputError.
  void commit();

  // The temporary file's name: "DIR/.NAME.tmp.PID".
  const std::string& temporary() const { return temporary_; }

 private:
  void discard();

  std::string destination_;
  std::string temporary_;
  int fd_ = -1;
  std::unique_ptr<detail::FdStreamBuffer> buffer_;
  std::ostream stream_;
  bool done_ = false;
  bool direct_ = false;  // the destination is a device or pipe: written in place, never replaced
};

// The OutputError for a write to `path` that failed with `err` (errno): for ENOSPC and EFBIG the
// message says the disk or the file size limit is full.
[[noreturn]] void throw_write_error(const std::string& path, int err, std::string hint = "");

}  // namespace torchprobe
