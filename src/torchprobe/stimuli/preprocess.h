#pragma once
// The preprocessing applied to every stimulus: its size, how images are fitted to it, and the
// normalisation.
//
//   std::vector<std::string> warnings;
//   PreprocessOptions options;
//   options.preprocess = torchprobe::Normalization::kImagenet;
//   auto pre = torchprobe::resolve_preprocessing(model, options, warnings);
//   at::Tensor input = pre.prepare(torchprobe::StimulusSpec::parse("cat.jpg"));  // [C,H,W]
//
// Defaults:
//   size     options.size, else the model's metadata input_size, else 224x224
//   channels the model's metadata input_size, else 3
//   fit      options.fit, else the metadata's resize.fit ("crop" for scripts/export_model.py), else
//            stretch; crop_pct from the metadata's resize.crop_pct, else 0.875
//   mean/std options.mean/std (1 or C values; one of them alone keeps the other at 0 / 1;
//            name "custom"), else options.preprocess none|imagenet|model, else the metadata's
//            mean/std ("model"), else none with a warning
// The input is (pixels - mean[c]) / std[c] in float32 arithmetic on the float32 pixels, with
// mean and std rounded to float32 (as torchvision's Normalize on a float tensor). NOTE: a metadata
// or imagenet list whose length is not C is used cyclically (a 1-channel model with ImageNet
// statistics uses the first value); the header always records the per-channel values actually used.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "torchprobe/model/model.h"
#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {

struct Preprocessing {
  std::string name = "none";  // none | imagenet | model | custom
  std::vector<double> mean;   // per channel (C values); empty: no normalisation
  std::vector<double> std_dev;
  Size2 size{224, 224};
  int64_t channels = 3;
  Fit fit = Fit::kStretch;
  double crop_pct = 0.875;

  Resize resize() const { return {size, fit, crop_pct}; }
  // The stimulus in pixel space at the target size, before normalisation: [C,H,W].
  // Throws StimulusError.
  at::Tensor pixels(const StimulusSpec& spec) const;
  at::Tensor normalize(const at::Tensor& pixels) const;  // float32 [C,H,W] -> [C,H,W]
  // normalize(pixels(spec)): what the model gets for this stimulus. Throws StimulusError.
  at::Tensor prepare(const StimulusSpec& spec) const { return normalize(pixels(spec)); }
  // prepare(spec) narrowed to `region` (of the stimulus's size), computing only those pixels:
  // normalisation is per pixel, so the values are the same. With a file's SHA-256, read along.
  // Throws StimulusError.
  RenderedStimulus prepare_region(const StimulusSpec& spec, const PixelRegion& region) const;
  nlohmann::json to_json() const;
};

// The normalisations chosen by name.
enum class Normalization { kNone, kImagenet, kModel };
// "none" | "imagenet" | "model"; throws UsageError naming the text.
Normalization parse_normalization(const std::string& text);
std::string to_string(Normalization normalization);

struct PreprocessOptions {
  std::optional<Normalization> preprocess;  // nullopt: the default above
  std::optional<Size2> size;                // nullopt: the default above
  std::optional<Fit> fit;                   // nullopt: the default above
  std::optional<int64_t> channels;          // 1 or 3; nullopt: the model's metadata, else 3
  std::optional<double> crop_pct;           // in (0, 1]; nullopt: the model's metadata, 0.875
  std::vector<double> mean;                 // empty: not given
  std::vector<double> std_dev;              // empty: not given
};

// Throws UsageError for an unknown name or fit, "model" on a model without metadata, mean/std
// together with a preprocessing name, lists of the wrong length or non-positive std.
Preprocessing resolve_preprocessing(const Model& model, const PreprocessOptions& options,
                                    std::vector<std::string>& warnings);
// Without a model (`torchprobe render`): no metadata, 3 channels, no warning.
Preprocessing resolve_preprocessing(const PreprocessOptions& options);

// "0.5,0.25,1" -> {0.5, 0.25, 1}; throws UsageError naming `option`.
std::vector<double> parse_float_list(const std::string& option, const std::string& text);

}  // namespace torchprobe
