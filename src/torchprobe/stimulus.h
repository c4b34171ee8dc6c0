#pragma once
// Stimulus specs and rendering them to pixel tensors.
//
//   auto spec = torchprobe::StimulusSpec::parse("noise:7@224x244");
//   at::Tensor pixels = torchprobe::render_stimulus(spec, /*channels=*/3, {224, 224});
//   // pixels: float32 [3, 224, 244] in [0, 1], before normalisation
//
// Grammar (see README "Stimuli"):  PATH | uniform:V[@HxW] | noise:SEED[@HxW]
// noise:SEED is uniform [0,1) noise from SplitMix64 so that any language can reproduce it:
// for flat index i over (C,H,W), z = SEED + (i+1) * 0x9E3779B97F4A7C15 (mod 2^64), then the
// SplitMix64 finaliser, value = (z >> 40) / 2^24.
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>

namespace torchprobe {

struct Size2 {
  int64_t height = 0;
  int64_t width = 0;
  bool operator==(const Size2& o) const { return height == o.height && width == o.width; }
};
Size2 parse_size(const std::string& text);  // "HxW", throws UsageError
std::string to_string(const Size2& size);

struct StimulusSpec {
  enum class Kind { kFile, kUniform, kNoise };
  Kind kind = Kind::kFile;
  std::string id;    // canonical spec, or the path as given for files
  std::string path;  // for files
  double value = 0;  // for uniform
  uint64_t seed = 0; // for noise
  std::optional<Size2> size;  // the @HxW suffix

  // Throws StimulusError for a malformed synthetic spec.
  static StimulusSpec parse(const std::string& text);
  bool is_file() const { return kind == Kind::kFile; }
};

// Float32 [channels, H, W] in pixel space [0, 1]. The size is the spec's @HxW if given, else
// `size`. Throws StimulusError naming the file for unreadable images.
at::Tensor render_stimulus(const StimulusSpec& spec, int64_t channels, const Size2& size);

}  // namespace torchprobe
