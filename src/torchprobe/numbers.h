#pragma once
// Parsing the integers and sizes users type (stimulus specs, readouts, shards, layer calls, input
// sizes): one definition of what a number is.
//
//   torchprobe::parse_digits("224", 6);      // 224
//   torchprobe::parse_digits("+3", 6);       // nullopt: digits only
//   torchprobe::parse_chw("3x224x224");      // {3, 224, 224}
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace torchprobe {

// A decimal integer written with digits only (no sign, space or other character) and at most
// `max_digits` of them, so that it fits int64_t whatever the caller's cap; else nullopt.
std::optional<int64_t> parse_digits(const std::string& text, std::size_t max_digits);
// The same into `out` (left as it was when `text` is not such a number), for specs that parse
// several fields in one condition: parse_digits(y, 9, out.y) && parse_digits(x, 9, out.x).
bool parse_digits(const std::string& text, std::size_t max_digits, int64_t& out);

// The largest image torchprobe makes or feeds a model: at most kMaxSide pixels per side and
// kMaxPixels in all (8192x8192). A float32 RGB input of that size is 805 MB, before the
// network's activations; sizes beyond would end in an allocation failure, or in swapping.
constexpr int64_t kMaxSide = 16384;
constexpr int64_t kMaxPixels = int64_t(1) << 26;
// Why height x width is beyond those bounds ("too large: ..."), or empty when it is within them.
std::string input_size_violation(int64_t height, int64_t width);

// "CxHxW": three positive integers of at most 6 digits, joined by 'x'; else nullopt.
std::optional<std::vector<int64_t>> parse_chw(const std::string& text);

// A tolerance (diff's, check's, bn-check's) must be finite and not negative: with NaN or a
// negative one every comparison fails, with infinity none does. Throws UsageError naming the
// setting by its field ("{atol}") and the value.
void require_tolerance(const std::string& field, double value);

}  // namespace torchprobe
