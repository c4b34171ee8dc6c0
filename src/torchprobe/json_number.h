#pragma once
// float32 values as JSON numbers whose text is the shortest that reads back to the same float32.
//
//   nlohmann::json j = torchprobe::json_float(0.1f);  // dumps as 0.1, not 0.10000000149011612
#include <nlohmann/json.hpp>

namespace torchprobe {

// NOTE: nlohmann::json prints doubles with the shortest text that round-trips the *double*.
// Storing the double nearest to the float's own shortest decimal text makes that text the
// double's shortest round-trip text as well, so the JSON holds exactly the float's shortest text.
nlohmann::json json_float(float value);

}  // namespace torchprobe
