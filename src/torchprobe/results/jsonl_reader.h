#pragma once
// Reading a JSON Lines output one line at a time, in flat memory, as resuming and merging need it
// (results_reader.h reads a whole file into memory and rejects a torn last line).
//
//   torchprobe::JsonlReader in("part-1-of-4.jsonl");       // throws ResultsFormatError if
//   unreadable std::string line; while (in.next_line(line)) {
//     nlohmann::json record = in.parse_object(line);        // throws ResultsFormatError
//   }
//   in.torn();            // the file ended in a line without '\n' (not returned: a killed
//   writer's) in.complete_bytes();  // where the complete lines end: the length to cut a torn file
//   to
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace torchprobe {

class JsonlReader {
 public:
  explicit JsonlReader(std::string path);

  // The next complete line, without its '\n'; false at the end of the complete lines.
  bool next_line(std::string& line);
  // The line last returned by next_line (1: the header line).
  int64_t line_number() const { return line_number_; }
  uint64_t complete_bytes() const { return complete_bytes_; }
  bool torn() const { return torn_; }
  const std::string& path() const { return path_; }

  // `line` as a JSON object. Throws ResultsFormatError naming the file and the line.
  nlohmann::json parse_object(const std::string& line) const;
  // parse_object plus the checks of a torchprobe header ("torchprobe" object, no "stimuli").
  // Both refuse a line nested more than kMaxJsonDepth deep (detail/json_depth.h).
  nlohmann::json parse_header(const std::string& line) const;
  [[noreturn]] void fail(const std::string& why) const;

 private:
  void check_depth(const std::string& line) const;

  std::string path_;
  std::ifstream in_;
  int64_t line_number_ = 0;
  uint64_t complete_bytes_ = 0;
  bool torn_ = false;
};

// True when `path` ends in ".jsonl" (any case): the extension that selects JSON Lines output.
bool is_jsonl_path(const std::string& path);

}  // namespace torchprobe
