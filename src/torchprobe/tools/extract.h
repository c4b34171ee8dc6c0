#pragma once
// A standalone TorchScript "probe": a module whose forward(x) returns the captures as a
// Dict[str, Tensor], for use without torchprobe (Python torch.jit.load, C++ torch::jit::load).
//
//   auto model = torchprobe::Model::load("resnet18.pt");
//   torchprobe::ExtractOptions options;
//   options.layers = {"layer1.0.relu", "fc"};
//   torchprobe::Extractor probe = torchprobe::build_extractor(model, options);
//   torchprobe::save_extractor(probe, "probe.pt");
//   // Python: torch.jit.load("probe.pt")(x) -> {"layer1.0.relu": ..., "fc": ...}
//
// The probe's forward is the capture program (capture.cpp): truncated, every capture cloned as
// soon as its module returns, the training flags folded in for the chosen mode. The model is
// kept as the probe's submodule `model`; the model's own class types are not modified.
//
// NOTE: the dictionary's keys are fixed from one example forward (a batch of one noise:0 image
// of the model's input size): how often each module is called, and so whether a key is "NAME" or
// "NAME#0", "NAME#1", ..., is what that forward did. A module called fewer times for another
// input makes the probe fail with an index error; requests not called in the example have no
// key (they are listed in `not_called`). Models whose call structure does not depend on the
// input (every torchvision classifier) are not affected.
#include <torch/script.h>

#include <optional>
#include <string>
#include <vector>

#include "torchprobe/model/model.h"

namespace torchprobe {

struct ExtractOptions {
  std::vector<std::string> layers;
  Mode mode = Mode::kEval;
  // C, H, W of the example input; default the model's metadata input_size, else 3x224x224.
  std::optional<std::vector<int64_t>> input_size;
};

struct Extractor {
  torch::jit::Module module;                 // forward(x) -> Dict[str, Tensor]
  std::vector<std::string> names;            // the dictionary's keys, in capture order
  std::vector<std::vector<int64_t>> shapes;  // each capture's shape for the example
  std::vector<std::string> not_called;       // requests not called in the example forward
  std::vector<int64_t> example_size;         // N, C, H, W of the example
  nlohmann::json info;                       // written into the file as torchprobe_probe.json
  nlohmann::json model_metadata;             // the model's torchprobe.json, copied into the file
  at::Tensor example;                        // the example input and the capture program's
  std::vector<at::Tensor> expected;          // captures for it, in `names` order
};

// Sets the model's mode. Throws UsageError, UnknownLayerError, CaptureError (kLayerNotCapturable,
// or kInternal if the probe does not reproduce the capture program on the example), ForwardError.
Extractor build_extractor(Model& model, const ExtractOptions& options);

// Serializes the probe, loads the bytes back with torch::jit::load and checks that they give the
// same captures on the example, then writes the file atomically (temporary file + rename).
// Throws OutputError, CaptureError (kInternal).
void save_extractor(const Extractor& extractor, const std::string& path);

}  // namespace torchprobe
