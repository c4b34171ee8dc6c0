#pragma once
// Modules that a trace recorded without data flow: nothing of theirs to capture.
//
//   for (const auto& t : torchprobe::traced_identities(model))
//     std::cout << t.layer << " passes on " << t.passes_on << "\n";
//
// torch.jit.trace records a module call through the tensor ops it runs. A module that returns
// its input unchanged (nn.Identity; torchvision's StochasticDepth or a custom dropout in eval
// mode) runs none: the trace keeps a call with no argument that returns None, and the caller's
// graph goes on with the value from before the call. Scripted, the same module is an ordinary
// call whose output can be captured.
#include <string>
#include <vector>

#include "torchprobe/model/model.h"

namespace torchprobe {

struct TracedIdentity {
  std::string layer;  // the module, as named by Model::modules()
  // A capture name for the value the module passes on, inferred from the caller's graph (the
  // trace does not record it): the output of the module call that made it
  // ("features.2.1.block"), else the input of the next module call that uses it ("stem:in"),
  // else the input of the caller ("res:in"). "" when it is none of these (e.g. made by an op).
  std::string passes_on;
};

// The submodules called, somewhere in the model's methods, as a forward with no argument that
// returns None, in Model::modules() order, each once (with the first call's passes_on that is
// not "").
std::vector<TracedIdentity> traced_identities(const Model& model);

}  // namespace torchprobe
