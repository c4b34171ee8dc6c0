#pragma once
// The preprocessing applied to every stimulus: its size and its normalisation.
//
//   std::vector<std::string> warnings;
//   auto pre = torchprobe::resolve_preprocessing(model, {"imagenet", std::nullopt}, warnings);
//   at::Tensor input = pre.normalize(pixels);   // (pixels - mean) / std per channel
//
// Defaults: size from --size, else the model's metadata input_size, else 224x224; normalisation
// from --preprocess, else the model's metadata ("model"), else none (with a warning).
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "torchprobe/model.h"
#include "torchprobe/stimulus.h"

namespace torchprobe {

struct Preprocessing {
  std::string name = "none";  // none | imagenet | model
  std::vector<float> mean;    // empty: no normalisation
  std::vector<float> std;
  Size2 size{224, 224};
  int64_t channels = 3;
  std::string fit = "stretch";

  at::Tensor normalize(const at::Tensor& pixels) const;  // [C,H,W] -> [C,H,W]
  nlohmann::json to_json() const;
};

struct PreprocessOptions {
  std::string preprocess;     // "", none, imagenet, model
  std::optional<Size2> size;  // --size
};

// Throws UsageError for an unknown name, or "model" on a model without metadata.
Preprocessing resolve_preprocessing(const Model& model, const PreprocessOptions& options,
                                    std::vector<std::string>& warnings);

}  // namespace torchprobe
