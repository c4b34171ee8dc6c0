#pragma once
// Writes results as JSON Lines: the header's fields on the first line, then one compact record
// per line, appended with write(2) after every batch (flush()). A killed run therefore leaves
// whole lines plus at most one torn last line, which resuming (resume.h) cuts off. A write that
// fails (disk full, file size limit) cuts the file back to its last complete line itself and
// throws OutputError (exit 50) saying so.
//
//   torchprobe::JsonlWriter out("responses.jsonl");     // OutputError (exit 51) if it exists
//   probe.run(stimuli, out);                             // lines appear batch by batch
//
//   torchprobe::JsonlWriter more("responses.jsonl", {torchprobe::JsonlOpen::kAppend});
//
// Memory stays flat: only the current batch's lines are held.
#include <cstdint>
#include <functional>
#include <string>

#include "torchprobe/output/result_sink.h"

namespace torchprobe {

enum class JsonlOpen {
  kCreate,     // a new file; throws OutputError (kOutputExists) if the path exists
  kOverwrite,  // create or truncate
  kAppend,     // continue a file that prepare_resume() checked: header() writes nothing
};

struct JsonlWriterOptions {
  JsonlOpen open = JsonlOpen::kCreate;
  bool sync = false;  // fsync after every batch: survives a power cut, not only a kill
};

class JsonlWriter : public ResultSink {
 public:
  using Open = JsonlOpen;
  using Options = JsonlWriterOptions;

  // Opens the file. Throws OutputError (kOutputExists for kCreate on an existing path, else
  // kOutput).
  explicit JsonlWriter(std::string path, Options options = {});
  ~JsonlWriter() override;
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void header(const nlohmann::json& header) override;  // written and flushed at once
  void record(const nlohmann::json& record) override;  // held until flush()
  void flush() override;                               // throws OutputError (see above)
  void finish() override;                              // throws OutputError

 private:
  void write_all(const std::string& text);

  std::string path_;
  Options options_;
  int fd_ = -1;
  std::string pending_;
  int64_t complete_size_ = 0;  // the file's size up to its last complete line
};

// The error for an output that exists when neither overwriting nor resuming was asked for; for
// a directory, the error that it is one (no flag can overwrite it).
[[noreturn]] void throw_output_exists(const std::string& path, bool resumable);

}  // namespace torchprobe
