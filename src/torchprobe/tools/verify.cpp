#include "torchprobe/tools/verify.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "torchprobe/capture/capture.h"
#include "torchprobe/detail/bitwise_equal.h"
#include "torchprobe/detail/libtorch_compat.h"
#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

using detail::bitwise_equal;

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::numeric_limits<double>::infinity();
  at::Tensor diff = (a.to(at::kDouble) - b.to(at::kDouble)).abs();
  // NaN on one side only is an infinite difference; NaN on both sides with equal bits is not
  // reached (bitwise_equal), with different bits it counts as 0 here.
  diff = at::where(a.isnan() != b.isnan(), at::full_like(diff, INFINITY), diff);
  diff = at::nan_to_num(diff, 0.0);
  return diff.numel() ? diff.max().item<double>() : 0.0;
}

std::map<std::string, at::Tensor> by_name(const Captures& captures) {
  std::map<std::string, at::Tensor> out;
  for (const auto& c : captures.captures) out[c.name] = c.value;
  return out;
}

// Collects the warnings a model's forward emits (e.g. scripted GoogLeNet's "always returns
// GoogleNetOutputs", from the untruncated program) instead of letting LibTorch print them.
class WarningCollector : public compat::WarningHandlerBase {
 public:
  void on_warning(const std::string& message) override { messages.insert(message); }
  std::set<std::string> messages;
};

std::size_t convolutions(const CaptureProgram& program) {
  return program.count_nodes("aten::conv2d") + program.count_nodes("aten::_convolution") +
         program.count_nodes("aten::conv1d") + program.count_nodes("aten::conv3d");
}

// The report's entry for each capture name, added (in first-seen order) when first asked for.
class CaptureEntries {
 public:
  explicit CaptureEntries(std::vector<VerifiedCapture>& captures) : captures_(captures) {}

  VerifiedCapture& operator()(const std::string& name) {
    auto [it, inserted] = index_.emplace(name, captures_.size());
    if (inserted) captures_.push_back(VerifiedCapture{name});
    return captures_[it->second];
  }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }

 private:
  std::vector<VerifiedCapture>& captures_;
  std::map<std::string, std::size_t> index_;
};

// Compares one capture of the truncated program with the same capture in `other` (the
// untruncated program's or the re-run's, named by `what`): counts a difference and its size, or
// notes a problem when `other` lacks it.
void compare_capture(const Capture& capture, const std::map<std::string, at::Tensor>& other,
                     const char* what, const std::string& stimulus_id, VerifiedCapture& c,
                     int64_t& differs, double& max_diff) {
  auto found = other.find(capture.name);
  if (found == other.end()) {
    c.problems.push_back(stimulus_id + ": missing from the " + what);
    return;
  }
  if (!bitwise_equal(capture.value, found->second)) {
    differs += 1;
    max_diff = std::max(max_diff, max_abs_diff(capture.value, found->second));
  }
}

// Compares each capture of the truncated run `t` on one stimulus with the untruncated run `f`
// and the re-run `r`.
void compare_truncated_captures(const std::string& stimulus_id, const Captures& t,
                                const Captures& f, const Captures& r, CaptureEntries& entry) {
  auto full_by_name = by_name(f), rerun_by_name = by_name(r);
  for (const auto& capture : t.captures) {
    VerifiedCapture& c = entry(capture.name);
    if (c.stimuli == 0) c.shape = capture.value.sizes().slice(1).vec();
    c.stimuli += 1;
    compare_capture(capture, full_by_name, "untruncated program", stimulus_id, c, c.full_differs,
                    c.full_max_abs_diff);
    compare_capture(capture, rerun_by_name, "re-run", stimulus_id, c, c.rerun_differs,
                    c.rerun_max_abs_diff);
  }
}

// Notes a problem for each capture of the untruncated run `f` or the re-run `r` that the
// truncated run `t` lacks.
void note_captures_missing_from_truncated(const std::string& stimulus_id, const Captures& t,
                                          const Captures& f, const Captures& r,
                                          CaptureEntries& entry) {
  auto truncated_by_name = by_name(t);
  for (const auto* other : {&f, &r}) {
    for (const auto& capture : other->captures) {
      if (!truncated_by_name.count(capture.name)) {
        entry(capture.name)
            .problems.push_back(stimulus_id + ": captured by the " +
                                (other == &f ? "untruncated program" : "re-run") +
                                " but not the truncated one");
      }
    }
  }
}

// Notes a problem for each layer that only one of the truncated run `t` and the untruncated run
// `f` did not call.
void note_not_called_differences(const std::string& stimulus_id, const Captures& t,
                                 const Captures& f, CaptureEntries& entry) {
  std::set<std::string> nt(t.not_called.begin(), t.not_called.end());
  std::set<std::string> nf(f.not_called.begin(), f.not_called.end());
  if (nt != nf) {
    for (const auto& name : nf) {
      if (!nt.count(name)) {
        entry(name).problems.push_back(stimulus_id +
                                       ": not called in the untruncated program only");
      }
    }
    for (const auto& name : nt) {
      if (!nf.count(name)) {
        entry(name).problems.push_back(stimulus_id + ": not called in the truncated program only");
      }
    }
  }
}

}  // namespace

bool VerifyReport::passed() const {
  for (const auto& c : captures) {
    if (!c.passed()) return false;
  }
  return !captures.empty() || !not_called.empty();
}

nlohmann::json VerifyReport::to_json() const {
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  nlohmann::json out = {
      {"model", model},
      {"result", passed() ? "identical" : "different"},
      {"stimuli", stimuli},
      {"not_called", not_called},
      {"convolutions", {{"truncated", truncated_convolutions}, {"full", full_convolutions}}},
      {"captures", nlohmann::json::array()}};
  for (const auto& c : captures) {
    out["captures"].push_back({{"name", c.name},
                               {"shape", c.shape},
                               {"stimuli", c.stimuli},
                               {"passed", c.passed()},
                               {"full_differs", c.full_differs},
                               {"full_max_abs_diff", number(c.full_max_abs_diff)},
                               {"rerun_differs", c.rerun_differs},
                               {"rerun_max_abs_diff", number(c.rerun_max_abs_diff)},
                               {"problems", c.problems}});
  }
  return out;
}

VerifyReport verify_captures(Model& model, const std::vector<StimulusSpec>& stimuli,
                             const VerifyOptions& options, std::vector<std::string>& warnings) {
  require_layers(options.layers, model.path());
  model.set_mode(options.mode);
  Preprocessing pre = resolve_preprocessing(model, options.preprocess, warnings);
  CaptureProgram truncated = CaptureProgram::build(model, options.layers, CaptureOptions{true});
  CaptureProgram full = CaptureProgram::build(model, options.layers, CaptureOptions{false});
  CaptureProgram rerun = CaptureProgram::build(model, options.layers, CaptureOptions{true});

  VerifyReport report;
  report.model = model.path();
  report.truncated_convolutions = convolutions(truncated);
  report.full_convolutions = convolutions(full);
  CaptureEntries entry(report.captures);
  std::set<std::string> not_called;

  WarningCollector model_warnings;
  compat::WarningHandlerGuard guard(&model_warnings);
  for (const auto& spec : stimuli) {
    report.stimuli.push_back(spec.id);
    at::Tensor input = pre.prepare(spec).unsqueeze(0);
    Captures t = truncated.run(input);
    Captures f = full.run(input);
    Captures r = rerun.run(input);
    compare_truncated_captures(spec.id, t, f, r, entry);
    note_captures_missing_from_truncated(spec.id, t, f, r, entry);
    note_not_called_differences(spec.id, t, f, entry);
    not_called.insert(t.not_called.begin(), t.not_called.end());
  }
  for (const auto& name : not_called) {
    if (!entry.contains(name)) report.not_called.push_back(name);
  }
  for (const auto& message : model_warnings.messages) {
    warnings.push_back("the model's forward warned: " + message);
  }
  return report;
}

}  // namespace torchprobe
