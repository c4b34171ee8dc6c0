#include "torchprobe/output/json_document_writer.h"

#include <cerrno>
#include <ostream>

#include "torchprobe/detail/atomic_file.h"
#include "torchprobe/detail/json_text.h"

namespace torchprobe {

JsonDocumentWriter::JsonDocumentWriter(std::string path) : path_(std::move(path)) {}
JsonDocumentWriter::JsonDocumentWriter(std::ostream& stream) : stream_(&stream) {}

void JsonDocumentWriter::header(const nlohmann::json& header) {
  document_ = header;
  document_["stimuli"] = nlohmann::json::array();
}

void JsonDocumentWriter::record(const nlohmann::json& record) {
  document_["stimuli"].push_back(record);
}

void JsonDocumentWriter::finish() {
  if (stream_) {
    errno = 0;
    *stream_ << dump_json(document_, /*pretty=*/true) << "\n";
    stream_->flush();
    if (!*stream_) throw_write_error("<stdout>", errno != 0 ? errno : EIO);
    return;
  }
  AtomicFile file(path_);
  file.stream() << dump_json(document_, /*pretty=*/true) << "\n";
  file.commit();
}

}  // namespace torchprobe
