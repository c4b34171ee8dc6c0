#include "torchprobe/output/output_format.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "torchprobe/errors.h"

namespace torchprobe {

OutputFormat output_format_for(const std::string& path) {
  if (path.empty()) {
    throw UsageError("bad {output} '': an empty file name",
                     "give {output} FILE.json or FILE.jsonl, or leave it out for stdout");
  }
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".jsonl") return OutputFormat::kJsonLines;
  if (ext == ".json" || ext.empty()) return OutputFormat::kJsonDocument;
  throw UsageError("bad {output} '" + path + "': unknown output format '" + ext +
                       "' (torchprobe writes JSON: .json or .jsonl)",
                   "give {output} FILE.json or FILE.jsonl");
}

}  // namespace torchprobe
