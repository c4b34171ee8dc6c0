#pragma once
// Writing a file so that readers never see it half-written: the content goes to a temporary
// file in the same directory, which is flushed and renamed over the destination on commit().
//
//   torchprobe::AtomicFile out("results.json");   // throws OutputError if the directory is unwritable
//   out.stream() << text;
//   out.commit();                                 // throws OutputError (e.g. disk full); else renamed
//   // destroyed without commit(): the temporary file is removed, the destination untouched
#include <fstream>
#include <string>

namespace torchprobe {

class AtomicFile {
 public:
  explicit AtomicFile(std::string destination);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return stream_; }
  void commit();

 private:
  std::string destination_;
  std::string temporary_;
  std::ofstream stream_;
  bool committed_ = false;
};

}  // namespace torchprobe
