#pragma once
// Errors for a forward the model refused: what LibTorch said, in one line, with what the model
// says it expects. Parsing LibTorch's error text is here and nowhere else.
//
//   try { program.run(input); }
//   catch (const torchprobe::ForwardError& e) { ... }  // "forward of model 'm.pt' failed on an
//                                                      // input of shape [1, 3, 8, 8]: ..."
#include <ATen/ATen.h>

#include <exception>
#include <string>

#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"

namespace torchprobe {

// What the model says about the input it takes, for error messages: "input 1x32x32 (the model's
// metadata)" or "1 channel(s) (first convolution 'conv1', weight [4, 1, 3, 3])"; "" if unknown.
std::string describe_expected_input(const Model& model);

// The error for a forward of the model at `model_path` that threw `failure` on `input`: one line
// naming the model and the input shape, with the first line of LibTorch's message (without the
// TorchScript traceback) and `expected` (describe_expected_input()) where known.
ForwardError forward_error(const std::string& model_path, const std::string& expected,
                           const at::Tensor& input, const std::exception& failure,
                           std::string hint);

}  // namespace torchprobe
