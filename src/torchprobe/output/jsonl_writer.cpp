#include "torchprobe/output/jsonl_writer.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "torchprobe/detail/atomic_file.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

constexpr const char* kResumeHint =
    "free disk space or raise the file size limit (ulimit -f), then rerun the same command with "
    "{resume} to continue";

[[noreturn]] void throw_jsonl_write_error(const std::string& path, int err) {
  throw_write_error(path, err, err == ENOSPC || err == EFBIG || err == EDQUOT ? kResumeHint : "");
}

}  // namespace

void throw_output_exists(const std::string& path, bool resumable) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw_output_is_directory(path);
  throw OutputError(ExitCode::kOutputExists, "output '" + path + "' exists",
                    resumable ? "give {resume} to continue it, or {force} to overwrite it"
                              : "give {force} to overwrite it, or choose another {output}");
}

JsonlWriter::JsonlWriter(std::string path, Options options)
    : path_(std::move(path)), options_(std::move(options)) {
  int flags = O_WRONLY | O_CLOEXEC | O_CREAT;
  switch (options_.open) {
    case Open::kCreate:
      flags |= O_EXCL;
      break;
    case Open::kOverwrite:
      flags |= O_TRUNC;
      break;
    case Open::kAppend:
      flags |= O_APPEND;
      break;
  }
  fd_ = ::open(path_.c_str(), flags, 0644);
  if (fd_ < 0) {
    int err = errno;
    if (err == EEXIST) throw_output_exists(path_, /*resumable=*/true);
    throw OutputError(ExitCode::kOutput,
                      "cannot write output '" + path_ + "': " + std::strerror(err),
                      "check that the directory exists and is writable");
  }
  struct stat status {};
  if (::fstat(fd_, &status) == 0) complete_size_ = int64_t(status.st_size);
}

JsonlWriter::~JsonlWriter() {
  // NOTE: records of an unfinished batch are dropped on purpose: the file keeps whole batches.
  if (fd_ >= 0) ::close(fd_);
}

void JsonlWriter::header(const nlohmann::json& header) {
  if (options_.open == Open::kAppend) return;
  pending_ += dump_json(header, /*pretty=*/false);
  pending_ += '\n';
  flush();
}

void JsonlWriter::record(const nlohmann::json& record) {
  pending_ += dump_json(record, /*pretty=*/false);
  pending_ += '\n';
}

void JsonlWriter::flush() {
  if (pending_.empty()) return;
  write_all(pending_);
  pending_.clear();
  if (options_.sync && ::fsync(fd_) != 0) throw_jsonl_write_error(path_, errno);
}

void JsonlWriter::finish() {
  flush();
  if (::fsync(fd_) != 0 && errno != EINVAL) throw_jsonl_write_error(path_, errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw_jsonl_write_error(path_, errno);
}

void JsonlWriter::write_all(const std::string& text) {
  const std::size_t size = text.size();
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd_, text.data() + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      // A write that stopped part-way (disk full, file size limit) leaves a torn line: cut the
      // file back to its last complete line, so it stays readable and a resumed run continues it.
      // complete_size_ grows only by whole writes of `text`, which always ends with '\n'.
      // Fails harmlessly on what is not a regular file (a pipe, /dev/full): nothing to cut back.
      (void)::ftruncate(fd_, complete_size_);
      throw_jsonl_write_error(path_, err);
    }
    done += std::size_t(n);
  }
  complete_size_ += int64_t(size);
}

}  // namespace torchprobe
