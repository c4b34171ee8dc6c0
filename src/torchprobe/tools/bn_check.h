#pragma once
// Checking BatchNorm layers against their own formula.
//
//   auto rows = torchprobe::bn_check(model, input_batch, {});
//   for (const auto& r : rows) std::cout << r.name << " " << r.max_abs_diff_running << "\n";
//
// For each BatchNorm call, the input and output are captured (cloned at call time) and the output
// is recomputed in float64 as (x - running_mean) / sqrt(running_var + eps) * weight + bias per
// channel, from the module's own buffers, parameters and eps, read before the forward runs (in
// training mode the forward updates the running statistics). The same with the batch's own mean
// and biased variance shows whether the layer used batch statistics.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"

namespace torchprobe {

// An eval-mode layer matches when max |output - formula| <= atol + rtol * magnitude, where the
// magnitude is the largest |x * a| + |running_mean * a| + |bias| over the layer's elements, with
// a = weight / sqrt(running_var + eps): the terms LibTorch's float32 kernel (y = x * a + (bias -
// mean * a)) rounds. Each of its ~4 roundings is off by at most 2^-24 of its term's size, so the
// float32 result is within about 4 * 2^-24 * magnitude of the exact one; rtol = 1e-6 (16 * 2^-24)
// leaves a margin of 4. A layer that uses other statistics is off by a sizeable fraction of it.
struct BnCheckOptions {
  std::vector<std::string> layers;  // empty: every BatchNorm1d/2d/3d
  double atol = 1e-4;
  double rtol = 1e-6;
};

struct BnCheckRow {
  std::string name;  // capture name: LAYER or LAYER#i
  std::string type;
  bool training = false;  // the module's flag during the check
  bool track_running_stats = true;
  bool affine = true;
  std::optional<double> max_abs_diff_running;  // vs running statistics (none without them)
  double max_abs_diff_batch = 0;               // vs the batch's own statistics
  double magnitude = 0;  // the size of the terms the kernel rounds (BnCheckOptions)
  double tolerance = 0;  // atol + rtol * magnitude
  std::string status;    // "ok", "mismatch", "batch-statistics", "no-running-stats", "not-called"
  bool failed = false;   // an eval-mode layer that does not match within atol
};

// Runs `input` through the model in its current mode. Throws UnknownLayerError, UsageError (a named
// layer that is not a BatchNorm, a bad tolerance), ForwardError.
std::vector<BnCheckRow> bn_check(Model& model, const at::Tensor& input,
                                 const BnCheckOptions& options);

nlohmann::json to_json(const std::vector<BnCheckRow>& rows);
// The table; settings it suggests are named by `name_of` (errors.h).
std::string to_text(const std::vector<BnCheckRow>& rows, const BnCheckOptions& options,
                    const SettingNamer& name_of = field_name);

}  // namespace torchprobe
