#pragma once
// Whether a forward graph branches or loops on the values of tensors, not only on their shapes.
//
//   if (auto where = torchprobe::value_dependent_control_flow(*program.graph())) {
//     // stacking stimuli into one batch would take one way for all of them: run them one by one
//   }
//
// Such control flow (`if x.sum() > t:`, `while y.max() > 0:`) is decided once per forward. A hook
// run, one stimulus per forward, decides it per stimulus; a batch decides it for all its stimuli.
#include <torch/csrc/jit/ir/ir.h>

#include <optional>
#include <string>

namespace torchprobe {

// A condition (an if's, a loop's trip count or continue flag) is value-dependent when it is
// computed from a tensor by an op that reads the tensor's values (aten::Bool, aten::item,
// aten::Int, aten::eq on tensors ...), rather than only its shape, dtype, device or whether it is
// None. Methods and functions called from `graph` are searched too. NOTE: conservative: a
// condition on a parameter's values counts as well. Returns where the first one sits (the saved
// code's file:line and the line), or nullopt. Never throws.
std::optional<std::string> value_dependent_control_flow(const torch::jit::Graph& graph);

}  // namespace torchprobe
