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
  explicit JsonDocumentWriter(std::string path);  // written atomically on finish()
  explicit JsonDocumentWriter(std::ostream& stream);

  void header(const nlohmann::json& header) override;
  void record(const nlohmann::json& record) override;
  void finish() override;

 private:
  std::string path_;
  std::ostream* stream_ = nullptr;
  nlohmann::json document_;
};

}  // namespace torchprobe
