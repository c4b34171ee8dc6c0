#pragma once
// Where a TorchScript graph node comes from, for messages: the saved code's file and line.
//
//   source_line(node)  // "googlenet.py:39: _2 = torch.unsqueeze(torch.select(...), 1)"
#include <torch/csrc/jit/ir/ir.h>

#include <string>

namespace torchprobe {

// "FILE:LINE: CODE" with the whole line of the archive's code that holds the node (TorchScript
// re-serialises the model's Python, so this is the saved code, not the original file), trimmed;
// "" when the node has no source range. Never throws.
std::string source_line(const torch::jit::Node* node);

}  // namespace torchprobe
