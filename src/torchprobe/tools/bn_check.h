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

struct BnCheckOptions {
  std::vector<std::string> layers;  // empty: every BatchNorm1d/2d/3d
  double atol = 1e-4;
};

struct BnCheckRow {
  std::string name;  // capture name: LAYER or LAYER#i
  std::string type;
  bool training = false;  // the module's flag during the check
  bool track_running_stats = true;
  bool affine = true;
  std::optional<double> max_abs_diff_running;  // vs running statistics (none without them)
  double max_abs_diff_batch = 0;               // vs the batch's own statistics
  std::string status;   // "ok", "mismatch", "batch-statistics", "no-running-stats", "not-called"
  bool failed = false;  // an eval-mode layer that does not match within atol
};

// Runs `input` through the model in its current mode. Throws UnknownLayerError, UsageError (a named
// layer that is not a BatchNorm), ForwardError.
std::vector<BnCheckRow> bn_check(Model& model, const at::Tensor& input,
                                 const BnCheckOptions& options);

nlohmann::json to_json(const std::vector<BnCheckRow>& rows);
// The table; settings it suggests are named by `name_of` (errors.h).
std::string to_text(const std::vector<BnCheckRow>& rows, double atol,
                    const SettingNamer& name_of = field_name);

}  // namespace torchprobe
