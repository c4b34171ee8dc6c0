#pragma once
// One stimulus spec and rendering it to a pixel tensor.
//
//   auto spec = torchprobe::StimulusSpec::parse("grating:ori=45,sf=4@64x96");
//   at::Tensor pixels = torchprobe::render_stimulus(spec, /*channels=*/3, {224, 224});
//   // pixels: float32 [3, 64, 96] in pixel space (0 = black, 1 = white), before normalisation
//
// Grammar of one spec (README "Stimuli"; directories, @LIST files and sweeps are expanded into
// specs by stimulus_list.h):
//
//   PATH                             an image file; taken literally (a '@' in a file name is kept)
//   uniform:V[@HxW]                  every pixel V
//   noise:SEED[,dist=uniform|normal][@HxW]
//   grating:[ori=DEG][,sf=CYCLES][,phase=DEG][,contrast=C][,mean=M][@HxW]
//
// A text is synthetic when it starts with "uniform:", "noise:" or "grating:"; anything else is a
// path (write ./noise:7 for a file of that name). Synthetic stimuli are made at @HxW, else at the
// target size, directly in pixel space: they are never resized or cropped. The formulas are in
// synthetic.h. Ids: a file's id is its path as given; a synthetic stimulus's id is its canonical
// spec: numbers in their shortest round-trip form, defaults filled in for gratings and left out
// for noise (noise:007,dist=uniform is noise:7), the @HxW suffix kept when given.
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace torchprobe {

struct Size2 {
  int64_t height = 0;
  int64_t width = 0;
  bool operator==(const Size2& o) const { return height == o.height && width == o.width; }
  bool operator!=(const Size2& o) const { return !(*this == o); }
};
Size2 parse_size(const std::string& text);  // "HxW", throws UsageError
std::string to_string(const Size2& size);
// Why `size` is out of numbers.h's bounds ("too large: ..."), or empty when it is within them.
std::string size_bound_violation(const Size2& size);

// Rows [top, top + height) and columns [left, left + width) of an image.
struct PixelRegion {
  int64_t top = 0, left = 0, height = 0, width = 0;
  static PixelRegion whole(const Size2& size) { return {0, 0, size.height, size.width}; }
  Size2 size() const { return {height, width}; }
};

// How an image file is brought to the target size (synthetic stimuli are made at it).
enum class Fit {
  kStretch,  // resize to exactly H x W, ignoring the aspect ratio
  kCrop,     // resize to cover (H/crop_pct) x (W/crop_pct), then centre-crop H x W (image.h)
};
Fit parse_fit(const std::string& text);  // "stretch" | "crop", throws UsageError
std::string to_string(Fit fit);

struct Resize {
  // NOTE: a constructor, not an aggregate, so that render_stimulus(spec, 3, {224, 224}) picks
  // the Size2 overload.
  Resize() = default;
  Resize(Size2 size_, Fit fit_ = Fit::kStretch, double crop_pct_ = 0.875)
      : size(size_), fit(fit_), crop_pct(crop_pct_) {}
  Size2 size{224, 224};
  Fit fit = Fit::kStretch;
  double crop_pct = 0.875;  // only for Fit::kCrop; in (0, 1]
};

enum class NoiseDist { kUniform, kNormal };

struct GratingParams {
  double ori = 0;       // degrees, see synthetic.h for the convention
  double sf = 8;        // cycles per image width
  double phase = 0;     // degrees
  double contrast = 1;  // Michelson contrast
  double mean = 0.5;    // mean luminance
};

struct StimulusSpec {
  enum class Kind { kFile, kUniform, kNoise, kGrating };
  Kind kind = Kind::kFile;
  std::string id;     // canonical spec, or the path as given for files
  std::string path;   // for files: the path to open (differs from id for directory/list entries)
  double value = 0;   // uniform
  uint64_t seed = 0;  // noise
  NoiseDist dist = NoiseDist::kUniform;  // noise
  GratingParams grating;                 // grating
  std::optional<Size2> size;             // the @HxW suffix

  // Throws StimulusError naming the text for a malformed synthetic spec.
  static StimulusSpec parse(const std::string& text);
  // A file stimulus opened at `path` and reported as `id`.
  static StimulusSpec file(std::string path, std::string id);
  bool is_file() const { return kind == Kind::kFile; }

 private:
  static StimulusSpec parse_synthetic(const std::string& text);
};

// The kinds of synthetic stimulus: "uniform", "noise", "grating".
const std::vector<std::string>& synthetic_kinds();
// True when `text` names a synthetic stimulus (uniform:, noise:, grating:).
bool is_synthetic_spec(const std::string& text);
// "gabor" for "gabor:ori=45": a text that looks like a spec of some kind (a lower-case word and
// a colon), known or not; nullopt for other texts.
std::optional<std::string> spec_kind(const std::string& text);

// Float32 [channels, H, W] in pixel space (computed in double and rounded once, see image.h and
// synthetic.h). Files are decoded, converted and resized/cropped to resize.size (image.h);
// synthetic stimuli are made at their @HxW, else at resize.size.
// Throws StimulusError naming the file for unusable images.
at::Tensor render_stimulus(const StimulusSpec& spec, int64_t channels, const Resize& resize);
// Same, with Fit::kStretch.
at::Tensor render_stimulus(const StimulusSpec& spec, int64_t channels, const Size2& size);

struct RenderedStimulus {
  at::Tensor pixels;                  // float32 [channels, region.height, region.width]
  std::optional<std::string> sha256;  // files: the digest of the bytes decoded
};
// Only `region` of render_stimulus's image (the same values, see load_image_region), and the
// file's SHA-256 read along. The region must lie inside the stimulus's size. Throws as
// render_stimulus.
RenderedStimulus render_stimulus_region(const StimulusSpec& spec, int64_t channels,
                                        const Resize& resize, const PixelRegion& region);

// The shortest text that reads back as `v` ("0.5", "15", "1e-05"); -0 is written "0".
std::string format_number(double v);

}  // namespace torchprobe
