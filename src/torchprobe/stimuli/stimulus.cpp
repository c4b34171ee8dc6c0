#include "torchprobe/stimuli/stimulus.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

}  // namespace

std::string format_number(double v) {
  if (v == 0) return "0";  // also -0
  char text[64];
  // Shortest round-trip text, fixed or scientific whichever is shorter: 30, 0.3, 1e-05.
  auto result = std::to_chars(text, text + sizeof(text), v);
  return std::string(text, result.ptr);
}

Size2 parse_size(const std::string& text) {
  auto x = text.find('x');
  Size2 size;
  if (x == std::string::npos || !parse_digits(text.substr(0, x), 6, size.height) ||
      size.height <= 0 || !parse_digits(text.substr(x + 1), 6, size.width) || size.width <= 0) {
    throw UsageError("bad size '" + text + "': expected HxW with positive integers, e.g. 224x224");
  }
  return size;
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

bool is_synthetic_spec(const std::string& text) {
  for (const char* scheme : {"uniform:", "noise:", "grating:"}) {
    if (text.rfind(scheme, 0) == 0) return true;
  }
  return false;
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
    try {
      spec.size = parse_size(body.substr(at + 1));
    } catch (const UsageError&) {
      bad_spec(text, "the size after '@' must be HxW, e.g. @224x224");
    }
    body.resize(at);
  }
  std::string size_suffix = spec.size ? "@" + to_string(*spec.size) : "";
  if (scheme == "uniform") {
    spec.kind = Kind::kUniform;
    if (!parse_double(body, spec.value)) {
      bad_spec(text, "uniform takes a number, e.g. uniform:0.5");
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
      return render_grating(spec.grating, channels, size);
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
