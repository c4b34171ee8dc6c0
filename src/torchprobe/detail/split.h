#pragma once
// Splitting spec text at a separator, keeping empty parts ("a,,b" -> "a", "", "b"): stimulus
// specs and sweep expressions check each part themselves.
#include <string>
#include <vector>

namespace torchprobe::detail {

inline std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto pos = text.find(sep, start);
    parts.push_back(text.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

}  // namespace torchprobe::detail
