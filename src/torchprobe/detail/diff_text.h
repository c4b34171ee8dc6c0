#pragma once
// Text and JSON pieces shared by the comparison (results/diff.cpp) and its reports
// (results/diff_report.cpp): numbers, positions, the tolerance rule. Not installed.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "torchprobe/results/diff.h"

namespace torchprobe::detail {

std::string number_text(double value);               // "%.6g", or nan / inf / -inf
std::string json_text(const nlohmann::json& value);  // "(none)" for null
// The tolerance rule with the given names or numbers for its terms; the scaled term only when set.
std::string tolerance_rule(const Tolerance& tolerance, const std::string& atol,
                           const std::string& rtol, const std::string& scale_tol);
nlohmann::json number_json(double value);  // null for nan and inf
std::string quoted(const std::string& text);
// "channel 3", "channel 3 at (1,2)", or "value 0" for a scalar.
std::string position_text(const ValueLocation& at);
nlohmann::json location_json(const std::optional<ValueLocation>& at);

}  // namespace torchprobe::detail
