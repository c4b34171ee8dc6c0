#include "torchprobe/json_number.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace torchprobe {

nlohmann::json json_float(float value) {
  if (!std::isfinite(value)) return nullptr;  // JSON has no NaN/Inf; readers see null
  char text[64];
  auto result = std::to_chars(text, text + sizeof(text) - 1, value);
  *result.ptr = '\0';
  return std::strtod(text, nullptr);
}

}  // namespace torchprobe
