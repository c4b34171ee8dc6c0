#pragma once
// What a user must know about one layer, read from the model's graph.
//
//   auto model = torchprobe::Model::load("googlenet.pt");
//   torchprobe::LayerExplanation e = torchprobe::explain_layer(model, "conv1.bn");
//   // e.inplace_after: the in-place ReLU in BasicConv2d.forward that overwrites bn's output
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"

namespace torchprobe {

// One graph op, with the model source line it came from when the archive kept it.
struct GraphOp {
  std::string kind;    // e.g. "aten::mul"
  std::string owner;   // module whose code it is ("" for the root's forward)
  std::string source;  // "googlenet.py:188: x_ch0 = torch.unsqueeze(x[:, 0], 1) * ..." or ""
  // functional_before only: the op runs after the previous submodule call, right before the layer
  // (what re-assembling submodules in nn.Sequential skips); `layers` marks such layers
  // 'functional'.
  bool direct = false;
  // external_effects only: how many ops of this kind share this source line (e.g. every
  // BatchNorm's input check).
  int count = 1;
};

struct LayerExplanation {
  std::string layer;
  std::string type;
  // 1. ops between the model input and the layer (its first call) that belong to no submodule
  //    call on the way, in graph order; `direct` for those after the previous submodule call
  std::vector<GraphOp> functional_before;
  // 2. in-place ops that modify the layer's output after it returns (directly or inside a module)
  std::vector<GraphOp> inplace_after;
  // 3. calls
  int64_t call_sites = 0;
  bool in_branch = false;
  bool in_loop = false;
  // 4. submodules (the layer itself included) whose behaviour depends on the training flag
  std::vector<std::string> training_dependent;
  bool model_training = false;
  // 5. traced models: branches and loops were fixed at trace time
  bool traced = false;
  // Ops with effects outside the tensor world anywhere in the forward (prints, file writes, raises)
  std::vector<GraphOp> external_effects;

  bool has_notes() const {
    return !functional_before.empty() || !inplace_after.empty() || call_sites > 1 || in_branch ||
           in_loop || !training_dependent.empty();
  }
  nlohmann::json to_json() const;
  // The text report; settings it mentions are named by `name_of` (errors.h).
  std::string to_text(const SettingNamer& name_of = field_name) const;
};

// Throws UnknownLayerError.
LayerExplanation explain_layer(Model& model, const std::string& layer);

// The short marker `layers` shows for each layer (e.g. "inplace,train"), in one graph analysis.
std::vector<std::string> explain_markers(Model& model);

// Ops whose effects leave the tensor world (prim::Print, aten::save, aten::warn,
// prim::RaiseException, file or process ops) anywhere in the fully inlined forward.
std::vector<GraphOp> external_effects(const Model& model);

}  // namespace torchprobe
