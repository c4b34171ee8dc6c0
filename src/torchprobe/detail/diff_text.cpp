#include "torchprobe/detail/diff_text.h"

#include <cmath>
#include <cstdio>

#include "torchprobe/detail/json_text.h"

namespace torchprobe::detail {

using nlohmann::json;

std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

std::string json_text(const json& value) { return value.is_null() ? "(none)" : dump_json(value); }

std::string tolerance_rule(const Tolerance& tolerance, const std::string& atol,
                           const std::string& rtol, const std::string& scale_tol) {
  std::string rule = "|candidate - baseline| <= " + atol + " + " + rtol + " * |baseline|";
  if (tolerance.scale_tol > 0) rule += " + " + scale_tol + " * max|baseline of the response|";
  return rule;
}

json number_json(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

std::string position_text(const ValueLocation& at) {
  if (at.position.empty()) return "value " + std::to_string(at.index);
  std::string out = "channel " + std::to_string(at.position[0]);
  if (at.position.size() > 1) {
    out += " at (";
    for (std::size_t i = 1; i < at.position.size(); ++i) {
      out += (i > 1 ? "," : "") + std::to_string(at.position[i]);
    }
    out += ")";
  }
  return out;
}

json location_json(const std::optional<ValueLocation>& at) {
  if (!at) return nullptr;
  json out = {{"stimulus", at->stimulus},
              {"layer", at->layer},
              {"index", at->index},
              {"position", at->position},
              {"baseline", number_json(at->baseline)},
              {"candidate", number_json(at->candidate)},
              {"abs_error", number_json(at->abs_error)}};
  out["channel"] = at->channel() ? json(*at->channel()) : json(nullptr);
  out["rel_error"] = at->rel_error ? number_json(*at->rel_error) : json(nullptr);
  return out;
}

}  // namespace torchprobe::detail
