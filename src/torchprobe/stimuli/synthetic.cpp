#include "torchprobe/stimuli/synthetic.h"

#include <cmath>

namespace torchprobe {
namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
constexpr double kPi = 3.14159265358979323846;

uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

at::Tensor render_uniform(double value, int64_t channels, const Size2& size) {
  return at::full({channels, size.height, size.width}, value, at::kDouble).to(at::kFloat);
}

at::Tensor render_noise(uint64_t seed, NoiseDist dist, int64_t channels, const Size2& size) {
  at::Tensor out = at::empty({channels, size.height, size.width}, at::kDouble);
  double* data = out.data_ptr<double>();
  const int64_t n = out.numel();
  if (dist == NoiseDist::kUniform) {
    for (int64_t i = 0; i < n; ++i) {
      uint64_t z = splitmix64(seed + uint64_t(i + 1) * kGolden);
      data[i] = double(z >> 40) * (1.0 / 16777216.0);  // exact in float32 too
    }
    return out.to(at::kFloat);
  }
  const double two_pow_minus_53 = 1.0 / 9007199254740992.0;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t a = splitmix64(seed + uint64_t(2 * i + 1) * kGolden);
    uint64_t b = splitmix64(seed + uint64_t(2 * i + 2) * kGolden);
    double u1 = double((a >> 11) + 1) * two_pow_minus_53;
    double u2 = double(b >> 11) * two_pow_minus_53;
    data[i] = 0.5 + 0.25 * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }
  return out.to(at::kFloat);
}

at::Tensor render_grating(const GratingParams& p, int64_t channels, const Size2& size) {
  const int64_t h = size.height, w = size.width;
  const double t = p.ori * kPi / 180.0;
  const double phase = p.phase * kPi / 180.0;
  const double k = 2.0 * kPi * p.sf / double(w);
  const double ct = std::cos(t), st = std::sin(t);
  at::Tensor plane = at::empty({h, w}, at::kDouble);
  double* data = plane.data_ptr<double>();
  for (int64_t y = 0; y < h; ++y) {
    const double yy = (double(h) - 1.0) / 2.0 - double(y);
    for (int64_t x = 0; x < w; ++x) {
      const double xx = double(x) - (double(w) - 1.0) / 2.0;
      data[y * w + x] = p.mean * (1.0 + p.contrast * std::cos(k * (xx * ct + yy * st) + phase));
    }
  }
  return plane.to(at::kFloat).unsqueeze(0).expand({channels, h, w}).contiguous();
}

}  // namespace torchprobe
