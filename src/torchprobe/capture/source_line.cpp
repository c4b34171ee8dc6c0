#include "torchprobe/capture/source_line.h"

namespace torchprobe {

std::string source_line(const torch::jit::Node* node) {
  const auto& range = node->sourceRange();
  auto location = range.file_line_col();
  if (!location || !range.source()) return "";
  auto [file, line, column] = *location;
  (void)column;
  const auto& source = range.source();
  std::string text = source->get_line(source->lineno_for_offset(range.start())).str();
  auto first = text.find_first_not_of(" \t");
  text = first == std::string::npos ? "" : text.substr(first);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto slash = file.rfind('/');
  return (slash == std::string::npos ? file : file.substr(slash + 1)) + ":" + std::to_string(line) +
         ": " + text;
}

}  // namespace torchprobe
