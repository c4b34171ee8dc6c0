#include "torchprobe/stimulus.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "torchprobe/errors.h"
#include "torchprobe/image.h"

namespace torchprobe {
namespace {

bool parse_positive(const std::string& text, int64_t& out) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = std::stoll(text);
  return out > 0;
}

bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text.c_str(), &end);
  return errno == 0 && end == text.c_str() + text.size() && std::isfinite(out);
}

uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string format_number(double v) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.17g", v);
  // prefer the shortest text that reads back exactly
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof(text), "%.*g", precision, v);
    if (std::strtod(text, nullptr) == v) break;
  }
  return text;
}

}  // namespace

Size2 parse_size(const std::string& text) {
  auto x = text.find('x');
  Size2 size;
  if (x == std::string::npos || !parse_positive(text.substr(0, x), size.height) ||
      !parse_positive(text.substr(x + 1), size.width)) {
    throw UsageError("bad size '" + text + "': expected HxW with positive integers, e.g. 224x224");
  }
  return size;
}

std::string to_string(const Size2& size) {
  return std::to_string(size.height) + "x" + std::to_string(size.width);
}

StimulusSpec StimulusSpec::parse(const std::string& text) {
  StimulusSpec spec;
  auto colon = text.find(':');
  std::string scheme = colon == std::string::npos ? "" : text.substr(0, colon);
  if (scheme != "uniform" && scheme != "noise") {
    spec.kind = Kind::kFile;
    spec.path = text;
    spec.id = text;
    return spec;
  }
  std::string body = text.substr(colon + 1);
  auto at = body.rfind('@');
  if (at != std::string::npos) {
    try {
      spec.size = parse_size(body.substr(at + 1));
    } catch (const UsageError&) {
      throw StimulusError("bad stimulus '" + text + "': the size after '@' must be HxW, e.g. @224x224");
    }
    body.resize(at);
  }
  std::string size_suffix = spec.size ? "@" + to_string(*spec.size) : "";
  if (scheme == "uniform") {
    spec.kind = Kind::kUniform;
    if (!parse_double(body, spec.value)) {
      throw StimulusError("bad stimulus '" + text + "': uniform takes a number, e.g. uniform:0.5");
    }
    spec.id = "uniform:" + format_number(spec.value) + size_suffix;
  } else {
    spec.kind = Kind::kNoise;
    if (body.empty() || body.size() > 19 || body.find_first_not_of("0123456789") != std::string::npos) {
      throw StimulusError("bad stimulus '" + text + "': noise takes an integer seed, e.g. noise:7");
    }
    spec.seed = std::stoull(body);
    spec.id = "noise:" + std::to_string(spec.seed) + size_suffix;
  }
  return spec;
}

at::Tensor render_stimulus(const StimulusSpec& spec, int64_t channels, const Size2& default_size) {
  Size2 size = spec.size.value_or(default_size);
  switch (spec.kind) {
    case StimulusSpec::Kind::kFile:
      return load_image(spec.path, channels, size);
    case StimulusSpec::Kind::kUniform:
      return at::full({channels, size.height, size.width}, spec.value, at::kFloat);
    case StimulusSpec::Kind::kNoise: {
      at::Tensor out = at::empty({channels, size.height, size.width}, at::kFloat);
      float* data = out.data_ptr<float>();
      const int64_t n = out.numel();
      for (int64_t i = 0; i < n; ++i) {
        uint64_t state = spec.seed + uint64_t(i + 1) * 0x9E3779B97F4A7C15ULL;
        data[i] = float(splitmix64(state) >> 40) * (1.0f / 16777216.0f);
      }
      return out;
    }
  }
  return {};
}

}  // namespace torchprobe
