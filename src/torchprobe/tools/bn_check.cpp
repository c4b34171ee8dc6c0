#include "torchprobe/tools/bn_check.h"

#include <torch/csrc/jit/passes/inliner.h>

#include <iomanip>
#include <map>
#include <sstream>

#include "torchprobe/capture/capture.h"
#include "torchprobe/errors.h"
#include "torchprobe/numbers.h"

namespace torchprobe {
namespace {

bool is_batch_norm(const std::string& type) {
  return type == "BatchNorm1d" || type == "BatchNorm2d" || type == "BatchNorm3d" ||
         type == "SyncBatchNorm" || type == "_BatchNorm";
}

struct BnState {
  std::string layer;
  std::string type;
  bool training;
  bool track;
  c10::optional<at::Tensor> running_mean, running_var, weight, bias;
  double eps;
};

c10::optional<at::Tensor> tensor_attr(const torch::jit::Module& m, const char* name) {
  if (!m.hasattr(name)) return c10::nullopt;
  c10::IValue v = m.attr(name);
  if (!v.isTensor()) return c10::nullopt;
  return v.toTensor().detach().clone().to(at::kDouble);
}

// eps as the module's attribute, or, for traced modules (which keep only tensors), the constant
// passed to aten::batch_norm in its forward.
double batch_norm_eps(const torch::jit::Module& m) {
  if (m.hasattr("eps") && m.attr("eps").isDouble()) return m.attr("eps").toDouble();
  auto graph = torch::jit::toGraphFunction(m.get_method("forward").function()).graph()->copy();
  torch::jit::Inline(*graph);
  for (torch::jit::Node* node : graph->nodes()) {
    if (node->kind() != c10::aten::batch_norm || node->inputs().size() < 8) continue;
    auto eps = torch::jit::toIValue(node->input(7));
    if (eps && eps->isDouble()) return eps->toDouble();
  }
  return 1e-5;  // PyTorch's default
}

// Shape [1, C, 1, ...] to broadcast per channel against x of rank `rank`.
at::Tensor per_channel(const at::Tensor& v, int64_t rank) {
  std::vector<int64_t> shape(std::size_t(rank), 1);
  shape[1] = v.numel();
  return v.view(shape);
}

at::Tensor normalise(const at::Tensor& x, const at::Tensor& mean, const at::Tensor& var,
                     const BnState& bn) {
  int64_t rank = x.dim();
  at::Tensor y = (x - per_channel(mean, rank)) / at::sqrt(per_channel(var, rank) + bn.eps);
  if (bn.weight) y = y * per_channel(*bn.weight, rank);
  if (bn.bias) y = y + per_channel(*bn.bias, rank);
  return y;
}

// The BatchNorm layers to check, with their state: the named ones (UsageError for a named layer
// that is not a BatchNorm), or all of them when none is named.
std::vector<BnState> batch_norm_layers(Model& model, const BnCheckOptions& options) {
  std::vector<BnState> layers;
  for (const auto& entry : model.modules()) {
    bool named = options.layers.empty();
    for (const auto& l : options.layers) named |= l == entry.name;
    if (!named) continue;
    if (!is_batch_norm(entry.type)) {
      if (options.layers.empty()) continue;
      throw UsageError("layer '" + entry.name + "' is a " + entry.type + ", not a BatchNorm");
    }
    const auto& m = entry.module;
    auto running_mean = tensor_attr(m, "running_mean");
    // Traced modules keep only tensors: no running_mean buffer means no running statistics.
    bool track = m.hasattr("track_running_stats") ? m.attr("track_running_stats").toBool()
                                                  : running_mean.has_value();
    BnState bn{entry.name,
               entry.type,
               m.is_training(),
               track,
               running_mean,
               tensor_attr(m, "running_var"),
               tensor_attr(m, "weight"),
               tensor_attr(m, "bias"),
               batch_norm_eps(m)};
    layers.push_back(std::move(bn));
  }
  return layers;
}

// The largest |x * a| + |mean * a| + |bias|, a = weight / sqrt(var + eps) (BnCheckOptions).
double rounding_magnitude(const at::Tensor& x, const BnState& bn) {
  const int64_t rank = x.dim();
  at::Tensor a = 1.0 / at::sqrt(per_channel(*bn.running_var, rank) + bn.eps);
  if (bn.weight) a = a * per_channel(*bn.weight, rank);
  at::Tensor terms = (x * a).abs() + (per_channel(*bn.running_mean, rank) * a).abs();
  if (bn.bias) terms = terms + per_channel(*bn.bias, rank).abs();
  return terms.max().item<double>();
}

// The row for one call `name` of a BatchNorm layer: how far its captured output is from the
// formula with the batch's and with the running statistics, and what that says.
BnCheckRow check_call(const BnState& bn, const std::string& name, const at::Tensor& input,
                      const at::Tensor& output, const BnCheckOptions& options) {
  at::Tensor x = input.to(at::kDouble);
  at::Tensor y = output.to(at::kDouble);
  BnCheckRow row{name, bn.type, bn.training, bn.track, bool(bn.weight) && bool(bn.bias)};
  std::vector<int64_t> reduce = {0};
  for (int64_t d = 2; d < x.dim(); ++d) reduce.push_back(d);
  at::Tensor batch_mean = x.mean(reduce);
  at::Tensor batch_var = x.var(reduce, /*unbiased=*/false);
  row.max_abs_diff_batch = (normalise(x, batch_mean, batch_var, bn) - y).abs().max().item<double>();
  row.tolerance = options.atol;
  if (bn.running_mean && bn.running_var) {
    row.max_abs_diff_running =
        (normalise(x, *bn.running_mean, *bn.running_var, bn) - y).abs().max().item<double>();
    row.magnitude = rounding_magnitude(x, bn);
    row.tolerance = options.atol + options.rtol * row.magnitude;
  }
  bool matches_running = row.max_abs_diff_running && *row.max_abs_diff_running <= row.tolerance;
  if (!bn.track || !bn.running_mean) {
    row.status = "no-running-stats";
  } else if (bn.training) {
    row.status = "batch-statistics";
  } else {
    row.status = matches_running ? "ok" : "mismatch";
    row.failed = !matches_running;
  }
  return row;
}

}  // namespace

std::vector<BnCheckRow> bn_check(Model& model, const at::Tensor& input,
                                 const BnCheckOptions& options) {
  require_tolerance("atol", options.atol);
  require_tolerance("rtol", options.rtol);
  std::vector<BnState> layers = batch_norm_layers(model, options);
  for (const auto& l : options.layers) model.find(l);  // unknown names: UnknownLayerError

  std::vector<std::string> requests;
  for (const auto& bn : layers) {
    requests.push_back(bn.layer + ":in");
    requests.push_back(bn.layer);
  }
  std::vector<BnCheckRow> rows;
  if (layers.empty()) return rows;
  CaptureProgram program = CaptureProgram::build(model, requests, CaptureOptions{});
  Captures captures = program.run(input);
  std::map<std::string, at::Tensor> by_name;
  for (const auto& c : captures.captures) by_name[c.name] = c.value;

  for (const auto& bn : layers) {
    bool called = false;
    for (const auto& capture : captures.captures) {
      const std::string& name = capture.name;  // LAYER or LAYER#i (outputs), with ":in" (inputs)
      if (name != bn.layer && name.rfind(bn.layer + "#", 0) != 0) continue;
      auto in = by_name.find(name + ":in");
      if (in == by_name.end()) continue;
      called = true;
      rows.push_back(check_call(bn, name, in->second, capture.value, options));
    }
    if (!called) {
      BnCheckRow row{bn.layer, bn.type, bn.training, bn.track, bool(bn.weight)};
      row.status = "not-called";
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

nlohmann::json to_json(const std::vector<BnCheckRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    out.push_back(
        {{"layer", r.name},
         {"type", r.type},
         {"training", r.training},
         {"track_running_stats", r.track_running_stats},
         {"affine", r.affine},
         {"max_abs_diff_running", r.max_abs_diff_running ? nlohmann::json(*r.max_abs_diff_running)
                                                         : nlohmann::json(nullptr)},
         {"max_abs_diff_batch", r.max_abs_diff_batch},
         {"magnitude", r.magnitude},
         {"tolerance", r.tolerance},
         {"status", r.status},
         {"failed", r.failed}});
  }
  return out;
}

std::string to_text(const std::vector<BnCheckRow>& rows, const BnCheckOptions& options,
                    const SettingNamer& name_of) {
  std::ostringstream out;
  std::size_t width = 5;
  for (const auto& r : rows) width = std::max(width, r.name.size());
  out << std::left << std::setw(int(width)) << "layer"
      << "  mode   vs running   vs batch     status\n";
  for (const auto& r : rows) {
    auto number = [](double v) {
      std::ostringstream text;
      text << std::scientific << std::setprecision(2) << v;
      return text.str();
    };
    out << std::left << std::setw(int(width)) << r.name << "  " << std::setw(5)
        << (r.training ? "train" : "eval") << "  " << std::setw(11)
        << (r.max_abs_diff_running ? number(*r.max_abs_diff_running) : "-") << "  " << std::setw(11)
        << number(r.max_abs_diff_batch) << "  ";
    if (r.status == "ok")
      out << "ok";
    else if (r.status == "mismatch" && r.max_abs_diff_batch <= r.tolerance) {
      // NOTE: a model traced in training mode has training=true fixed in its aten::batch_norm
      // calls; setting the modules to eval afterwards does not change what the graph computes.
      out << "MISMATCH: uses batch statistics although the module is in eval mode (traced in "
             "training mode? tracing fixes the flag)";
    } else if (r.status == "mismatch")
      out << "MISMATCH: the output is not the formula with running statistics (tolerance "
          << r.tolerance << ")";
    else if (r.status == "batch-statistics")
      out << render_settings("training mode: uses batch statistics (use {mode} eval)", name_of);
    else if (r.status == "no-running-stats")
      out << "no running statistics (track_running_stats=False): always batch statistics";
    else
      out << r.status;
    if (!r.affine) out << "; no affine parameters";
    out << "\n";
  }
  out << "(max absolute difference between the captured output and (x - mean) / sqrt(var + eps) * "
         "weight + bias; tolerance "
      << options.atol << " + " << options.rtol
      << " * the layer's magnitude, the largest |x * a| + |mean * a| + |bias|, a = weight / "
         "sqrt(var + eps))\n";
  return out.str();
}

}  // namespace torchprobe
