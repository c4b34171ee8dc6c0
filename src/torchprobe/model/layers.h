#pragma once
// Listing the layers a user can ask for: every submodule, with how it is called.
//
//   auto layers = torchprobe::list_layers(model, std::vector<int64_t>{3, 224, 224});
//   for (const auto& l : layers) std::cout << l.name << " x" << l.calls << "\n";
#include <optional>
#include <string>
#include <vector>

#include "torchprobe/model/model.h"

namespace torchprobe {

struct LayerInfo {
  std::string name;
  std::string type;
  std::string qualified_type;
  // Call sites of the module's forward reached from the root's forward (static count: a call
  // inside a loop counts once, a call inside a branch counts even if the branch is not taken).
  int64_t call_sites = 0;
  bool in_branch = false;  // some call sits inside an if whose condition is not a constant
  bool in_loop = false;    // some call sits inside a loop
  // Traced without data flow (traced_identity.h): a call with no argument that returns None, as
  // the tracer records a module that returned its input. Nothing of its own to capture;
  // `passes_on` names a capture of the value it passes on, or is "".
  bool traced_identity = false;
  std::string passes_on;
  // With an input size: the calls observed in one forward, and each call's output shape(s).
  std::optional<int64_t> calls;
  std::vector<std::vector<std::vector<int64_t>>> output_shapes;  // per call, per tensor output
};

// Every submodule in named_modules() order. With `input_size` (C,H,W) the model is run once on
// a batch of ones to count calls and record output shapes. Throws ForwardError.
std::vector<LayerInfo> list_layers(Model& model,
                                   const std::optional<std::vector<int64_t>>& input_size);

}  // namespace torchprobe
