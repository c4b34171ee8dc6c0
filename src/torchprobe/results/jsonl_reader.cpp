#include "torchprobe/results/jsonl_reader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "torchprobe/detail/json_depth.h"
#include "torchprobe/errors.h"

namespace torchprobe {

JsonlReader::JsonlReader(std::string path) : path_(std::move(path)) {
  std::error_code error;
  if (!std::filesystem::exists(path_, error)) fail("no such file");
  if (std::filesystem::is_directory(path_, error)) fail("it is a directory");
  in_.open(path_, std::ios::binary);
  if (!in_) fail("the file cannot be opened");
}

bool JsonlReader::next_line(std::string& line) {
  if (torn_ || !in_) return false;
  if (!std::getline(in_, line)) return false;  // nothing left
  if (in_.eof()) {
    // getline stopped at the end of the file, not at a '\n': a line cut short by a kill.
    torn_ = !line.empty();
    return false;
  }
  ++line_number_;
  complete_bytes_ += line.size() + 1;
  return true;
}

void JsonlReader::fail(const std::string& why) const {
  throw ResultsFormatError("cannot read results '" + path_ + "': " + why);
}

nlohmann::json JsonlReader::parse_object(const std::string& line) const {
  nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) {
    fail("line " + std::to_string(line_number_) + " is not a JSON object (not JSON Lines?)");
  }
  check_depth(line);
  return value;
}

nlohmann::json JsonlReader::parse_header(const std::string& line) const {
  nlohmann::json header = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object() || !header.contains("torchprobe") || header.contains("stimuli")) {
    fail("not a torchprobe JSON Lines output (the first line is not a header)");
  }
  check_depth(line);
  return header;
}

void JsonlReader::check_depth(const std::string& line) const {
  if (!json_depth_within(line, kMaxJsonDepth)) {
    fail("line " + std::to_string(line_number_) + " nests arrays and objects more than " +
         std::to_string(kMaxJsonDepth) + " deep (not written by torchprobe)");
  }
}

bool is_jsonl_path(const std::string& path) {
  const std::string ext = ".jsonl";
  if (path.size() < ext.size()) return false;
  return std::equal(ext.begin(), ext.end(), path.end() - ext.size(), [](char a, char b) {
    return a == std::tolower(static_cast<unsigned char>(b));
  });
}

}  // namespace torchprobe
