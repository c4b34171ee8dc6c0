#pragma once
// Which format a results path asks for, by its extension: the one rule for `run -o`, `merge -o`
// and `check -o`.
//
//   torchprobe::output_format_for("responses.jsonl");   // OutputFormat::kJsonLines
//   torchprobe::output_format_for("responses.csv");     // throws UsageError: unknown format
#include <string>

namespace torchprobe {

enum class OutputFormat {
  kJsonDocument,  // one JSON document, written when complete
  kJsonLines,     // a header line, then one record per line, written batch by batch
};

// ".jsonl" (any case): JSON Lines. ".json", or no extension at all ("out", "/dev/stdout"): one
// JSON document. Any other extension (".csv", ".txt", ".npy") is refused with a UsageError
// naming the path, rather than filling a .csv with JSON; so is an empty path.
OutputFormat output_format_for(const std::string& path);

}  // namespace torchprobe
