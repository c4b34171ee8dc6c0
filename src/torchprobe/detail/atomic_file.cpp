#include "torchprobe/detail/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <streambuf>
#include <unistd.h>
#include <vector>

#include "torchprobe/errors.h"

namespace torchprobe {

namespace detail {

// An output buffer over a file descriptor that remembers why the first failed write(2) failed,
// which std::ofstream does not tell.
class FdStreamBuffer : public std::streambuf {
 public:
  explicit FdStreamBuffer(int fd) : fd_(fd), buffer_(1 << 16) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    if (error_) return false;
    const char* data = pbase();
    std::size_t size = std::size_t(pptr() - pbase());
    while (size > 0) {
      ssize_t n = ::write(fd_, data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      data += n;
      size -= std::size_t(n);
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return true;
  }

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

}  // namespace detail

void throw_write_error(const std::string& path, int err, std::string hint) {
  std::string why = std::strerror(err);
  if (err == ENOSPC || err == EFBIG || err == EDQUOT) {
    why = "the disk or the file size limit is full (" + why + ")";
    if (hint.empty()) {
      hint = "free disk space or raise the file size limit (ulimit -f), then run again";
    }
  }
  throw OutputError(ExitCode::kOutput, "cannot write output '" + path + "': " + why,
                    std::move(hint));
}

void throw_output_is_directory(const std::string& path) {
  throw OutputError(
      ExitCode::kOutput, "cannot write output '" + path + "': it is a directory",
      "give a file name, e.g. {output} " + (std::filesystem::path(path) / "out.json").string());
}

AtomicFile::AtomicFile(std::string destination)
    : destination_(std::move(destination)), stream_(nullptr) {
  namespace fs = std::filesystem;
  fs::path dest(destination_);
  std::error_code error;
  fs::file_status status = fs::status(dest, error);
  if (!error && fs::is_directory(status)) throw_output_is_directory(destination_);
  direct_ = !error && fs::exists(status) && !fs::is_regular_file(status);
  std::string name = "." + dest.filename().string() + ".tmp." + std::to_string(::getpid());
  temporary_ = direct_ ? destination_ : (dest.parent_path() / name).string();
  int flags = direct_ ? O_WRONLY | O_CLOEXEC : O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  int fd = ::open(temporary_.c_str(), flags, 0644);
  if (fd < 0) {
    throw OutputError(ExitCode::kOutput,
                      "cannot write output '" + destination_ + "': " + std::strerror(errno),
                      "check that the directory exists and is writable");
  }
  fd_ = fd;
  buffer_ = std::make_unique<detail::FdStreamBuffer>(fd_);
  stream_.rdbuf(buffer_.get());
}

AtomicFile::~AtomicFile() {
  if (!done_) discard();
}

void AtomicFile::discard() {
  done_ = true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!direct_) std::remove(temporary_.c_str());
}

void AtomicFile::commit() {
  stream_.flush();
  int err = buffer_->error();
  if (!err && !stream_) err = EIO;
  if (!err) {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) err = errno;
  }
  if (err) {
    discard();
    throw_write_error(destination_, err);
  }
  if (!direct_ && std::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    err = errno;
    discard();
    throw OutputError(ExitCode::kOutput,
                      "cannot write output '" + destination_ + "': " + std::strerror(err));
  }
  done_ = true;
}

}  // namespace torchprobe
