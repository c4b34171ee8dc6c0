#include "torchprobe/stimuli/stimulus.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "torchprobe/detail/split.h"
#include "torchprobe/errors.h"
#include "torchprobe/numbers.h"
#include "torchprobe/stimuli/image.h"
#include "torchprobe/stimuli/synthetic.h"

namespace torchprobe {
namespace {

bool parse_double(const std::string& text, double& out) {
  // Plain decimal numbers only: strtod would also take hex, "inf", "nan" and leading spaces.
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text.c_str(), &end);
  return errno == 0 && end == text.c_str() + text.size() && std::isfinite(out);
}

bool parse_seed(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 20 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0) return false;
  out = v;
  return true;
}

using detail::split;

// "HxW" with positive integers of up to 6 digits, whatever their size.
std::optional<Size2> parse_size_digits(const std::string& text) {
  auto x = text.find('x');
  Size2 size;
  if (x == std::string::npos || !parse_digits(text.substr(0, x), 6, size.height) ||
      size.height <= 0 || !parse_digits(text.substr(x + 1), 6, size.width) || size.width <= 0) {
    return std::nullopt;
  }
  return size;
}

[[noreturn]] void bad_spec(const std::string& text, const std::string& why) {
  throw StimulusError("bad stimulus '" + text + "': " + why);
}

void parse_grating(const std::string& text, const std::string& body, GratingParams& g) {
  std::set<std::string> seen;
  if (body.empty()) return;
  for (const auto& field : split(body, ',')) {
    auto eq = field.find('=');
    std::string key = field.substr(0, eq);
    if (eq == std::string::npos) {
      bad_spec(text, "grating parameters are KEY=VALUE, e.g. grating:ori=45,sf=4");
    }
    double* target = key == "ori"        ? &g.ori
                     : key == "sf"       ? &g.sf
                     : key == "phase"    ? &g.phase
                     : key == "contrast" ? &g.contrast
                     : key == "mean"     ? &g.mean
                                         : nullptr;
    if (!target) {
      bad_spec(text,
               "unknown grating parameter '" + key + "' (expected ori, sf, phase, contrast, mean)");
    }
    if (!seen.insert(key).second) bad_spec(text, "grating parameter '" + key + "' given twice");
    if (!parse_double(field.substr(eq + 1), *target)) {
      bad_spec(text, "grating parameter '" + key + "' takes a number, e.g. " + key + "=2");
    }
  }
  if (g.sf < 0) bad_spec(text, "sf must not be negative");
  if (g.contrast < 0) bad_spec(text, "contrast must not be negative");
  // The pixels must be finite float32 numbers: cos()'s argument reaches 2*pi*sf*(1 + H/W) + phase
  // and the values mean * (1 + contrast).
  const double largest_argument =
      2.0 * std::acos(-1.0) * g.sf * (1.0 + double(kMaxSide)) + std::abs(g.phase);
  if (!std::isfinite(largest_argument)) {
    bad_spec(text, "sf or phase is so large that the pixels are non-finite (NaN)");
  }
  if (std::abs(g.mean) * (1.0 + g.contrast) > std::numeric_limits<float>::max()) {
    bad_spec(text,
             "mean * (1 + contrast) is beyond float32's range: the pixels would be non-finite");
  }
}

void parse_noise(const std::string& text, const std::string& body, StimulusSpec& spec) {
  auto fields = split(body, ',');
  if (!parse_seed(fields[0], spec.seed)) {
    bad_spec(text, "noise takes an integer seed in [0, 2^64), e.g. noise:7");
  }
  bool dist_seen = false;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    const std::string& f = fields[i];
    if (f.rfind("dist=", 0) != 0 || dist_seen) {
      bad_spec(text, "noise takes one option, dist=uniform|normal, e.g. noise:7,dist=normal");
    }
    dist_seen = true;
    std::string dist = f.substr(5);
    if (dist == "uniform")
      spec.dist = NoiseDist::kUniform;
    else if (dist == "normal")
      spec.dist = NoiseDist::kNormal;
    else
      bad_spec(text, "unknown noise distribution '" + dist + "' (expected uniform or normal)");
  }
}

// NOTE: parse() refuses the parameters that overflow; this is the net under it.
at::Tensor require_finite(const StimulusSpec& spec, at::Tensor pixels) {
  if (!at::isfinite(pixels).all().item<bool>()) {
    throw StimulusError("bad stimulus '" + spec.id + "': its pixels are non-finite (NaN or inf)");
  }
  return pixels;
}

}  // namespace

std::string format_number(double v) {
  if (v == 0) return "0";  // also -0
  char text[64];
  // Shortest round-trip text, fixed or scientific whichever is shorter: 30, 0.3, 1e-05.
  auto result = std::to_chars(text, text + sizeof(text), v);
  return std::string(text, result.ptr);
}

std::string size_bound_violation(const Size2& size) {
  return input_size_violation(size.height, size.width);
}

Size2 parse_size(const std::string& text) {
  auto size = parse_size_digits(text);
  if (!size) {
    throw UsageError("bad size '" + text + "': expected HxW with positive integers, e.g. 224x224");
  }
  const std::string too_large = size_bound_violation(*size);
  if (!too_large.empty()) throw UsageError("bad size '" + text + "': " + too_large);
  return *size;
}

std::string to_string(const Size2& size) {
  return std::to_string(size.height) + "x" + std::to_string(size.width);
}

Fit parse_fit(const std::string& text) {
  if (text == "stretch") return Fit::kStretch;
  if (text == "crop") return Fit::kCrop;
  throw UsageError("bad fit '" + text + "': expected stretch or crop");
}

std::string to_string(Fit fit) { return fit == Fit::kCrop ? "crop" : "stretch"; }

const std::vector<std::string>& synthetic_kinds() {
  static const std::vector<std::string> kinds = {"uniform", "noise", "grating"};
  return kinds;
}

bool is_synthetic_spec(const std::string& text) {
  for (const auto& kind : synthetic_kinds()) {
    if (text.size() > kind.size() && text.compare(0, kind.size(), kind) == 0 &&
        text[kind.size()] == ':') {
      return true;
    }
  }
  return false;
}

std::optional<std::string> spec_kind(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = text[i];
    if (!(std::islower(static_cast<unsigned char>(c)) || (i > 0 && std::isdigit(c)) || c == '_')) {
      return std::nullopt;
    }
  }
  return text.substr(0, colon);
}

StimulusSpec StimulusSpec::file(std::string path, std::string id) {
  StimulusSpec spec;
  spec.kind = Kind::kFile;
  spec.path = std::move(path);
  spec.id = std::move(id);
  return spec;
}

StimulusSpec StimulusSpec::parse(const std::string& text) {
  if (!is_synthetic_spec(text)) return file(text, text);
  try {
    return parse_synthetic(text);
  } catch (const StimulusError& e) {
    const std::string body = text.substr(text.find(':') + 1);
    if (body.find('|') == std::string::npos && body.find(':') == std::string::npos) throw;
    throw StimulusError(e.what(),
                        "ranges (START:STOP:STEP) and lists (A|B) need {sweep}, e.g. "
                        "{sweep} 'grating:ori=0:180:15,sf=2|4|8'");
  }
}

StimulusSpec StimulusSpec::parse_synthetic(const std::string& text) {
  StimulusSpec spec;
  auto colon = text.find(':');
  std::string scheme = text.substr(0, colon);
  std::string body = text.substr(colon + 1);
  auto at = body.rfind('@');
  if (at != std::string::npos) {
    spec.size = parse_size_digits(body.substr(at + 1));
    if (!spec.size) bad_spec(text, "the size after '@' must be HxW, e.g. @224x224");
    const std::string too_large = size_bound_violation(*spec.size);
    if (!too_large.empty()) bad_spec(text, "the size after '@' is " + too_large);
    body.resize(at);
  }
  std::string size_suffix = spec.size ? "@" + to_string(*spec.size) : "";
  if (scheme == "uniform") {
    spec.kind = Kind::kUniform;
    if (!parse_double(body, spec.value)) {
      bad_spec(text, "uniform takes a number, e.g. uniform:0.5");
    }
    if (std::abs(spec.value) > std::numeric_limits<float>::max()) {
      bad_spec(text, "the value is beyond float32's range: the pixels would be non-finite");
    }
    spec.id = "uniform:" + format_number(spec.value);
  } else if (scheme == "noise") {
    spec.kind = Kind::kNoise;
    parse_noise(text, body, spec);
    spec.id = "noise:" + std::to_string(spec.seed) +
              (spec.dist == NoiseDist::kNormal ? ",dist=normal" : "");
  } else {
    spec.kind = Kind::kGrating;
    parse_grating(text, body, spec.grating);
    const GratingParams& g = spec.grating;
    spec.id = "grating:ori=" + format_number(g.ori) + ",sf=" + format_number(g.sf) +
              ",phase=" + format_number(g.phase) + ",contrast=" + format_number(g.contrast) +
              ",mean=" + format_number(g.mean);
  }
  spec.id += size_suffix;
  return spec;
}

at::Tensor render_stimulus(const StimulusSpec& spec, int64_t channels, const Resize& resize) {
  Size2 size = spec.size.value_or(resize.size);
  switch (spec.kind) {
    case StimulusSpec::Kind::kFile:
      return load_image(spec.path, channels, resize);
    case StimulusSpec::Kind::kUniform:
      return render_uniform(spec.value, channels, size);
    case StimulusSpec::Kind::kNoise:
      return render_noise(spec.seed, spec.dist, channels, size);
    case StimulusSpec::Kind::kGrating:
      return require_finite(spec, render_grating(spec.grating, channels, size));
  }
  return {};
}

at::Tensor render_stimulus(const StimulusSpec& spec, int64_t channels, const Size2& size) {
  return render_stimulus(spec, channels, Resize(size));
}

RenderedStimulus render_stimulus_region(const StimulusSpec& spec, int64_t channels,
                                        const Resize& resize, const PixelRegion& region) {
  if (spec.is_file()) {
    LoadedImage image = load_image_region(spec.path, channels, resize, region);
    return {std::move(image.pixels), std::move(image.sha256)};
  }
  // Synthetic stimuli are cheap to make whole.
  at::Tensor whole = render_stimulus(spec, channels, resize);
  return {
      whole.narrow(1, region.top, region.height).narrow(2, region.left, region.width).contiguous(),
      std::nullopt};
}

}  // namespace torchprobe
