#include "torchprobe/results/results_reader.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "torchprobe/detail/json_depth.h"
#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

namespace fs = std::filesystem;

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is what matters.
std::string parse_error_text(const nlohmann::json::exception& e) {
  std::string text = e.what();
  auto close = text.find("] ");
  return close == std::string::npos ? text : text.substr(close + 2);
}

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void fail(const std::string& why) const {
    throw ResultsFormatError("cannot read results '" + name_ + "': " + why);
  }

  void check_header(const nlohmann::json& header) const {
    if (!header.is_object()) fail("not a torchprobe output (the top level is not a JSON object)");
    auto tool = header.find("torchprobe");
    if (tool == header.end() || !tool->is_object()) {
      fail("not a torchprobe output (no \"torchprobe\" header field)");
    }
    auto layers = header.find("layers");
    if (layers != header.end() && !layers->is_array()) fail("\"layers\" is not a list");
  }

  // `where` ("the JSON", "line 3") nests no deeper than kMaxJsonDepth: checked before anything
  // recurses through it.
  void check_depth(const std::string& text, const std::string& where) const {
    if (!json_depth_within(text, kMaxJsonDepth)) {
      fail(where + " nests arrays and objects more than " + std::to_string(kMaxJsonDepth) +
           " deep (not written by torchprobe)");
    }
  }

  void check_record(const nlohmann::json& record, std::size_t number) const {
    const std::string where = "stimulus record " + std::to_string(number);
    if (!record.is_object()) fail(where + " is not a JSON object");
    auto id = record.find("id");
    if (id == record.end() || !id->is_string()) fail(where + " has no string \"id\"");
    const std::string named = "stimulus '" + id->get<std::string>() + "'";
    if (record.contains("error")) return;  // a stimulus that failed (skip_bad): no responses
    auto responses = record.find("responses");
    if (responses == record.end() || !responses->is_object()) {
      fail(named + " has no \"responses\" object");
    }
    for (const auto& [layer, response] : responses->items()) {
      const std::string at = named + " response '" + layer + "'";
      if (!response.is_object()) fail(at + " is not a JSON object");
      auto values = response.find("values");
      if (values == response.end()) fail(at + " has no \"values\"");
      std::vector<double> flat;
      std::vector<int64_t> dims;
      if (!flatten_values(*values, flat, dims)) {
        fail(at + ": \"values\" is not a number or a rectangular list of numbers");
      }
      auto shape = response.find("shape");
      if (shape != response.end()) {
        bool ok = shape->is_array();
        for (const auto& d : *shape) ok = ok && d.is_number_integer();
        if (!ok) fail(at + ": \"shape\" is not a list of integers");
      }
    }
    auto not_called = record.find("not_called");
    if (not_called != record.end() && !not_called->is_array()) {
      fail(named + ": \"not_called\" is not a list");
    }
  }

  Results document(const std::string& text) const {
    nlohmann::json document;
    try {
      document = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      std::string why = parse_error_text(e);
      // NOTE: a file cut inside a string fails as "missing closing quote", not "end of input".
      if (e.byte + 1 >= text.size() || why.find("unexpected end of input") != std::string::npos) {
        fail("the JSON ends early (a truncated file?): " + why);
      }
      fail("not valid JSON: " + why);
    } catch (const nlohmann::json::exception& e) {  // out_of_range: a number such as 1e999
      fail("not valid JSON: " + parse_error_text(e));
    }
    check_depth(text, "the JSON");
    check_header(document);
    auto stimuli = document.find("stimuli");
    if (stimuli == document.end() || !stimuli->is_array()) {
      fail("not a torchprobe output (no \"stimuli\" list)");
    }
    Results results;
    results.path = name_;
    results.format = Results::Format::kDocument;
    results.records.reserve(stimuli->size());
    for (auto& record : *stimuli) {
      check_record(record, results.records.size() + 1);
      results.records.push_back(std::move(record));
    }
    document.erase("stimuli");
    results.header = std::move(document);
    return results;
  }

  Results lines(const std::string& text, nlohmann::json header) const {
    check_header(header);
    Results results;
    results.path = name_;
    results.format = Results::Format::kLines;
    results.header = std::move(header);
    std::istringstream stream(text);
    std::string line;
    std::getline(stream, line);  // the header, parsed already
    check_depth(line, "line 1");
    std::size_t number = 1;
    while (std::getline(stream, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json record;
      try {
        record = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
        bool last = stream.peek() == std::char_traits<char>::eof();
        fail("line " + std::to_string(number) + " is not valid JSON" +
             (last ? " (the torn last line of an interrupted run?)" : "") + ": " +
             parse_error_text(e));
      }
      check_depth(line, "line " + std::to_string(number));
      if (record.is_object() && record.contains("stimuli")) {
        fail("line " + std::to_string(number) + " is a whole document, not a stimulus record");
      }
      check_record(record, results.records.size() + 1);
      results.records.push_back(std::move(record));
    }
    return results;
  }

 private:
  std::string name_;
};

bool flatten_into(const nlohmann::json& values, std::size_t depth, std::vector<double>& flat,
                  std::vector<int64_t>& dims) {
  if (values.is_number()) {
    if (depth != dims.size()) return false;
    // NOTE: values are float32 written as their shortest text; "0.1" must read as 0.1f, the
    // number probe.h had, not as the double 0.1.
    flat.push_back(double(values.get<float>()));
    return true;
  }
  if (values.is_null()) {
    if (depth != dims.size()) return false;
    flat.push_back(std::numeric_limits<double>::quiet_NaN());
    return true;
  }
  if (!values.is_array()) return false;
  if (depth == dims.size()) {
    // The first list seen at this depth fixes the dimension; every later one must match.
    if (depth > 0 && !flat.empty()) return false;  // a list where a number was seen before
    dims.push_back(int64_t(values.size()));
  } else if (depth > dims.size() || dims[depth] != int64_t(values.size())) {
    return false;
  }
  for (const auto& v : values) {
    if (!flatten_into(v, depth + 1, flat, dims)) return false;
  }
  // An empty list fixes no deeper dimension; a sibling with elements would then not match.
  return true;
}

}  // namespace

std::string to_string(Results::Format format) {
  return format == Results::Format::kLines ? "jsonl" : "json";
}

bool flatten_values(const nlohmann::json& values, std::vector<double>& flat,
                    std::vector<int64_t>& dims) {
  flat.clear();
  dims.clear();
  if (!flatten_into(values, 0, flat, dims)) return false;
  int64_t expected = 1;
  for (int64_t d : dims) expected *= d;
  return expected == int64_t(flat.size());
}

Results parse_results(const std::string& text, const std::string& name) {
  Reader reader(name);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) reader.fail("the file is empty");
  // JSON Lines when the first line alone is a complete object without "stimuli".
  auto newline = text.find('\n');
  if (newline != std::string::npos) {
    nlohmann::json first = nlohmann::json::parse(text.substr(0, newline), nullptr,
                                                 /*allow_exceptions=*/false);
    if (first.is_object() && !first.contains("stimuli"))
      return reader.lines(text, std::move(first));
  } else {
    nlohmann::json only = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (only.is_object() && !only.contains("stimuli") && only.contains("torchprobe")) {
      return reader.lines(text, std::move(only));  // a JSON Lines header with no records yet
    }
  }
  return reader.document(text);
}

Results read_results(const std::string& path) {
  Reader reader(path);
  std::error_code error;
  if (!fs::exists(path, error)) reader.fail("no such file");
  if (fs::is_directory(path, error)) reader.fail("it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) reader.fail("the file cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) reader.fail("reading the file failed");
  return parse_results(text.str(), path);
}

}  // namespace torchprobe
