#pragma once
// Warnings LibTorch raises while a command runs a model (a TorchScript `warnings.warn` in the
// model's code, a deprecation notice): printed once each, as "warning: the model warns: ...",
// instead of LibTorch's default, a glog line per forward ("WARNING: Logging before
// InitGoogleLogging() ...", then "W1203 ... Warning: ..." for every batch).
//
//   ModelWarningPrinter printer;   // for this thread, while it lives
#include <set>
#include <string>

#include "torchprobe/detail/libtorch_compat.h"

namespace torchprobe::cli {

class ModelWarningPrinter : public compat::WarningHandlerBase {
 public:
  ModelWarningPrinter() : guard_(this) {}
  void on_warning(const std::string& message) override;

 private:
  std::set<std::string> printed_;
  compat::WarningHandlerGuard guard_;
};

}  // namespace torchprobe::cli
