// The differences between the LibTorch versions torchprobe builds against (1.13 and 2.x), in one
// place. Everything else in the code base is written against the API both versions share.
//
// Usage:
//   class Collector : public compat::WarningHandlerBase {
//     void on_warning(const std::string& message) override { ... }
//   };
//   Collector collector;
//   compat::WarningHandlerGuard guard(&collector);  // warnings of this thread go to `collector`
//
// Differences met so far (1.13 -> 2.6):
//   - c10::WarningHandler::process takes (SourceLocation, std::string, bool) in 1.x and
//     (const c10::Warning&) in 2.x;
//   - the guard that installs a handler is c10::Warning::WarningHandlerGuard in 1.x and
//     c10::WarningUtils::WarningHandlerGuard in 2.x.
#pragma once

#include <c10/util/Exception.h>
#include <torch/version.h>

#include <string>

namespace torchprobe::compat {

// A c10::WarningHandler that hands each warning's message text to on_warning().
class WarningHandlerBase : public c10::WarningHandler {
 public:
  virtual void on_warning(const std::string& message) = 0;

#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning& warning) override { on_warning(warning.msg()); }
#else
  void process(const c10::SourceLocation&, const std::string& message, const bool) override {
    on_warning(message);
  }
#endif
};

#if TORCH_VERSION_MAJOR >= 2
using WarningHandlerGuard = c10::WarningUtils::WarningHandlerGuard;
#else
using WarningHandlerGuard = c10::Warning::WarningHandlerGuard;
#endif

}  // namespace torchprobe::compat
