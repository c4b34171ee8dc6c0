#include "torchprobe/detail/json_text.h"

#include <charconv>
#include <cmath>

namespace torchprobe {
namespace {

void write_number(double value, std::string& out) {
  char text[64];
  std::to_chars_result result;
  float narrow = static_cast<float>(value);
  if (static_cast<double>(narrow) == value) {
    result = std::to_chars(text, text + sizeof(text), narrow);
  } else {
    result = std::to_chars(text, text + sizeof(text), value);
  }
  // NOTE: shortest means an integral value is written without a decimal point ("1", not "1.0").
  out.append(text, std::size_t(result.ptr - text));
}

bool is_flat(const nlohmann::json& array) {
  for (const auto& item : array) {
    if (item.is_structured()) return false;
  }
  return true;
}

void write(const nlohmann::json& value, bool pretty, int depth, std::string& out) {
  auto newline = [&](int level) {
    if (!pretty) return;
    out.push_back('\n');
    out.append(std::size_t(level), ' ');
  };
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      if (value.empty()) {
        out.append("{}");
        return;
      }
      out.push_back('{');
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out.push_back(',');
        first = false;
        newline(depth + 1);
        out.append(nlohmann::json(it.key()).dump());
        out.append(pretty ? ": " : ":");
        write(it.value(), pretty, depth + 1, out);
      }
      newline(depth);
      out.push_back('}');
      return;
    }
    case nlohmann::json::value_t::array: {
      bool inline_items = !pretty || is_flat(value);
      out.push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) out.append(inline_items && pretty ? ", " : ",");
        first = false;
        if (!inline_items) newline(depth + 1);
        write(item, pretty, depth + 1, out);
      }
      if (!inline_items && !value.empty()) newline(depth);
      out.push_back(']');
      return;
    }
    case nlohmann::json::value_t::number_float: {
      double number = value.get<double>();
      if (!std::isfinite(number)) {
        out.append("null");
      } else {
        write_number(number, out);
      }
      return;
    }
    default:
      out.append(value.dump());
  }
}

}  // namespace

nlohmann::json json_float(float value) {
  if (!std::isfinite(value)) return nullptr;
  return static_cast<double>(value);
}

std::string dump_json(const nlohmann::json& value, bool pretty) {
  std::string out;
  write(value, pretty, 0, out);
  return out;
}

}  // namespace torchprobe
