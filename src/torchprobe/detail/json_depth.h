#pragma once
// How deeply a JSON text nests its arrays and objects, counted before anything walks the parsed
// value: dumping, comparing and flattening a nlohmann::json recurse once per level, so a hostile
// file of a few hundred kilobytes of '[' would overflow the stack.
//
//   nlohmann::json value = nlohmann::json::parse(line, nullptr, false);
//   if (!torchprobe::json_depth_within(line, torchprobe::kMaxJsonDepth)) { /* refuse it */ }
//
// torchprobe writes at most 8 levels (a record's responses, a layer, "values" of a 4-d tensor).
#include <string_view>

namespace torchprobe {

constexpr int kMaxJsonDepth = 64;

// False when arrays and objects in `text` nest more than `limit` deep. Brackets inside strings do
// not count; for text that is not valid JSON the answer means nothing (parse it first).
bool json_depth_within(std::string_view text, int limit);

}  // namespace torchprobe
