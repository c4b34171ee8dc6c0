#pragma once
// JSON text in which every float32 value is written as the shortest text that reads back to the
// same float32 (0.1f is "0.1", not "0.10000000149011612").
//
//   nlohmann::json j = {{"values", {torchprobe::json_float(0.1f)}}};
//   std::string text = torchprobe::dump_json(j, /*pretty=*/true);
//
// NOTE: nlohmann::json stores numbers as double and prints a double's round-trip text, which for
// a float32 widened to double has up to 17 digits. dump_json writes any double that is exactly a
// float32 with std::to_chars(float) (shortest round-trip text, C++17; so 1.0f is "1"), other
// doubles with std::to_chars(double); everything else as nlohmann::json does.
#include <nlohmann/json.hpp>
#include <string>

namespace torchprobe {

// A float32 as a JSON value (null for NaN and infinities, which JSON cannot hold).
nlohmann::json json_float(float value);

// Compact (one line: JSON Lines) or pretty (indented, arrays of numbers on one line).
std::string dump_json(const nlohmann::json& value, bool pretty = false);

}  // namespace torchprobe
