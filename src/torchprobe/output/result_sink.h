#pragma once
// Where a probe's results go: a header, then one record per stimulus in stimulus order.
// One implementation per output format (output/json_document_writer.h, ...).
#include <nlohmann/json.hpp>

namespace torchprobe {

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void header(const nlohmann::json& header) = 0;
  virtual void record(const nlohmann::json& record) = 0;
  // Called after each batch's records: a streaming format writes them out now. Throws OutputError.
  virtual void flush() {}
  // Called after the last record; writes or flushes. Throws OutputError.
  virtual void finish() = 0;
};

}  // namespace torchprobe
