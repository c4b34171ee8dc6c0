#include "torchprobe/capture/forward_error.h"

#include <c10/util/Exception.h>
#include <c10/util/StringUtil.h>

#include <vector>

namespace torchprobe {
namespace {

// The first line of what LibTorch says about a failed forward. A c10::Error gives it without
// the C++ backtrace; the TorchScript interpreter's std::runtime_error puts a TorchScript
// traceback before the original error's "RuntimeError: <message>" line, which is what we keep.
std::string forward_failure_reason(const std::exception& failure) {
  auto* c10_error = dynamic_cast<const c10::Error*>(&failure);
  std::string text = c10_error ? c10_error->what_without_backtrace() : failure.what();
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  auto is_error_line = [](const std::string& line) {
    // "RuntimeError: ...", "builtins.ValueError: ...", "torch.jit.Error: ..."
    auto colon = line.find(": ");
    if (colon == std::string::npos || colon == 0) return false;
    const std::string name = line.substr(0, colon);
    const char* kNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";
    if (name.find_first_not_of(kNameChars) != std::string::npos) return false;
    auto ends_with = [&](const std::string& suffix) {
      return name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return ends_with("Error") || ends_with("Exception");
  };
  std::string reason;
  if (text.find("Traceback of TorchScript") != std::string::npos) {
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
      if (is_error_line(*it)) {
        reason = it->substr(it->find(": ") + 2);
        break;
      }
    }
  }
  if (reason.empty()) {
    for (const auto& line : lines) {
      if (line.find_first_not_of(" \t") != std::string::npos) {
        reason = line;
        break;
      }
    }
  }
  while (!reason.empty() && (reason.back() == ' ' || reason.back() == '\r')) reason.pop_back();
  return reason.empty() ? "unknown error" : reason;
}

std::string join_sizes(const std::vector<int64_t>& sizes, const char* separator) {
  std::string out;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    out += (i ? separator : "") + std::to_string(sizes[i]);
  }
  return out;
}

}  // namespace

std::string describe_expected_input(const Model& model) {
  if (auto size = model.input_size()) {
    return "input " + join_sizes(*size, "x") + " (the model's metadata)";
  }
  // NOTE: the first convolution in named_modules() order, which is the stem in the usual
  // architectures; a guess, so the message says where the number comes from.
  for (const auto& entry : model.modules()) {
    if (entry.type != "Conv1d" && entry.type != "Conv2d" && entry.type != "Conv3d") continue;
    if (!entry.module.hasattr("weight")) break;
    c10::IValue weight = entry.module.attr("weight");
    if (!weight.isTensor() || weight.toTensor().dim() < 2) break;
    const at::Tensor w = weight.toTensor();
    int64_t groups = 1;
    if (entry.module.hasattr("groups") && entry.module.attr("groups").isInt()) {
      groups = entry.module.attr("groups").toInt();
    }
    return std::to_string(w.size(1) * groups) + " channel(s) (first convolution '" + entry.name +
           "', weight [" + join_sizes(w.sizes().vec(), ", ") + "])";
  }
  return "";
}

ForwardError forward_error(const std::string& model_path, const std::string& expected,
                           const at::Tensor& input, const std::exception& failure,
                           std::string hint) {
  std::string message = "forward of model '" + model_path + "' failed on an input of shape " +
                        c10::str(input.sizes()) + ": " + forward_failure_reason(failure);
  if (!expected.empty()) message += "; it expects " + expected;
  return ForwardError(message, std::move(hint));
}

}  // namespace torchprobe
