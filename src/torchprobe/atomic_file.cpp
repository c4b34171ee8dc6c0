#include "torchprobe/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "torchprobe/errors.h"

namespace torchprobe {

AtomicFile::AtomicFile(std::string destination) : destination_(std::move(destination)) {
  namespace fs = std::filesystem;
  fs::path dest(destination_);
  std::string name = "." + dest.filename().string() + ".tmp." + std::to_string(::getpid());
  temporary_ = (dest.parent_path() / name).string();
  stream_.open(temporary_, std::ios::binary | std::ios::trunc);
  if (!stream_) {
    throw OutputError(ExitCode::kOutput,
                      "cannot write output '" + destination_ + "': " + std::strerror(errno),
                      "check that the directory exists and is writable");
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    stream_.close();
    std::remove(temporary_.c_str());
  }
}

void AtomicFile::commit() {
  stream_.flush();
  bool ok = bool(stream_);
  stream_.close();
  ok = ok && !stream_.fail();
  if (!ok) {
    std::remove(temporary_.c_str());
    committed_ = true;
    throw OutputError(ExitCode::kOutput, "cannot write output '" + destination_ +
                                             "': write failed (disk full or file size limit?)");
  }
  if (std::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    int err = errno;
    std::remove(temporary_.c_str());
    committed_ = true;
    throw OutputError(ExitCode::kOutput,
                      "cannot write output '" + destination_ + "': " + std::strerror(err));
  }
  committed_ = true;
}

}  // namespace torchprobe
