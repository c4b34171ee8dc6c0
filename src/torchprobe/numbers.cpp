#include "torchprobe/numbers.h"

#include <cmath>
#include <sstream>

#include "torchprobe/errors.h"

namespace torchprobe {

std::optional<int64_t> parse_digits(const std::string& text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits || max_digits > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  return value;
}

bool parse_digits(const std::string& text, std::size_t max_digits, int64_t& out) {
  auto value = parse_digits(text, max_digits);
  if (value) out = *value;
  return value.has_value();
}

std::optional<std::vector<int64_t>> parse_chw(const std::string& text) {
  std::vector<int64_t> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t x = text.find('x', start);
    auto value = parse_digits(text.substr(start, x == std::string::npos ? x : x - start), 6);
    if (!value || *value <= 0) return std::nullopt;
    out.push_back(*value);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  if (out.size() != 3) return std::nullopt;
  return out;
}

std::string input_size_violation(int64_t height, int64_t width) {
  if (height <= kMaxSide && width <= kMaxSide && height * width <= kMaxPixels) return "";
  return "too large: at most " + std::to_string(kMaxSide) + " pixels per side and " +
         std::to_string(kMaxPixels) + " in all (8192x8192)";
}

void require_tolerance(const std::string& field, double value) {
  if (value >= 0 && std::isfinite(value)) return;
  std::ostringstream text;
  text << value;
  throw UsageError("bad tolerance {" + field + "} " + text.str() +
                   ": a tolerance must be a finite number, 0 or more");
}

}  // namespace torchprobe
