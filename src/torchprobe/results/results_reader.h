#pragma once
// Reading torchprobe outputs back: a JSON document or JSON Lines, detected from the content.
//
//   torchprobe::Results r = torchprobe::read_results("responses.json");   // or .jsonl
//   std::cout << r.header["model"]["sha256"] << " " << r.records.size() << " stimuli\n";
//   for (const auto& record : r.records) std::cout << record["id"] << "\n";
//
// Formats (see README "Output schema"):
//   document  one JSON object: the header fields plus "stimuli": [record, ...]
//   lines     first line: the header fields (no "stimuli"); then one record per line
// A file is read as JSON Lines when its first line is on its own a complete JSON object without
// "stimuli"; otherwise the whole file must be one document. Blank lines in JSON Lines are skipped.
//
// Validated, with a ResultsFormatError (exit code kBadResults) naming the file otherwise:
// the header has a "torchprobe" object; every record is an object with a string "id" and either
// an "error" (a stimulus that failed, written with skip_bad) or a "responses" object whose values
// are objects with a "values" array or number (null stands for NaN/inf). Unknown fields are kept
// and ignored, so that outputs of newer versions still read.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace torchprobe {

struct Results {
  enum class Format { kDocument, kLines };
  std::string path;
  Format format = Format::kDocument;
  nlohmann::json header;                // every top-level field but "stimuli"
  std::vector<nlohmann::json> records;  // stimulus records in file order
};

std::string to_string(Results::Format format);  // "json" or "jsonl"

// Throws ResultsFormatError ("cannot read results 'PATH': <why>") for a missing, empty,
// unparsable or truncated file and for one that is not a torchprobe output.
Results read_results(const std::string& path);

// The same, from text in memory; `name` is used in error messages.
Results parse_results(const std::string& text, const std::string& name);

// A response's "values" (a number, null, or nested lists of them, as probe.h writes them) as
// flat values in row-major order plus the nesting dimensions. Each number is read as the float32
// it was written from (then widened to double); null reads as NaN.
// Returns false when `values` is not such a rectangular structure.
bool flatten_values(const nlohmann::json& values, std::vector<double>& flat,
                    std::vector<int64_t>& dims);

}  // namespace torchprobe
