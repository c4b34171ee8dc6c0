#pragma once
// Writes results as one JSON document: the header's fields plus "stimuli": [records...].
//
//   torchprobe::JsonDocumentWriter out("results.json");   // or JsonDocumentWriter(std::cout)
//   probe.run(stimuli, out);                               // the file appears only when complete
#include <iosfwd>
#include <string>

#include "torchprobe/output/result_sink.h"

namespace torchprobe {

class JsonDocumentWriter : public ResultSink {
 public:
  // Written atomically on finish(): a temporary file renamed into place, removed on any failure.
  explicit JsonDocumentWriter(std::string path);
  explicit JsonDocumentWriter(std::ostream& stream);

  void header(const nlohmann::json& header) override;
  void record(const nlohmann::json& record) override;
  void finish() override;  // throws OutputError (exit 50), e.g. when the disk is full

 private:
  std::string path_;
  std::ostream* stream_ = nullptr;
  nlohmann::json document_;
};

}  // namespace torchprobe
