#include "torchprobe/probe.h"

#include <torch/version.h>

#include <set>

#include "torchprobe/errors.h"
#include "torchprobe/json_text.h"
#include "torchprobe/sha256.h"
#include "torchprobe/version.h"

namespace torchprobe {
namespace {

nlohmann::json values_of(const float* data, at::IntArrayRef sizes, at::IntArrayRef strides) {
  nlohmann::json out = nlohmann::json::array();
  if (sizes.size() == 1) {
    for (int64_t i = 0; i < sizes[0]; ++i) out.push_back(json_float(data[i * strides[0]]));
    return out;
  }
  for (int64_t i = 0; i < sizes[0]; ++i) {
    out.push_back(values_of(data + i * strides[0], sizes.slice(1), strides.slice(1)));
  }
  return out;
}

CaptureProgram build_program(Model& model, const ProbeOptions& options) {
  model.set_mode(options.mode);
  return CaptureProgram::build(model, options.layers, CaptureOptions{options.truncate});
}

}  // namespace

nlohmann::json values_to_json(const at::Tensor& values) {
  at::Tensor v = values.to(at::kFloat).contiguous();
  if (v.dim() == 0) return json_float(v.item<float>());
  return values_of(v.data_ptr<float>(), v.sizes(), v.strides());
}

Probe::Probe(Model& model, ProbeOptions options, WarningHandler warn)
    : model_(model), options_(std::move(options)), warn_(std::move(warn)) {
  if (options_.layers.empty()) {
    throw UsageError("no layer given: name at least one with --layer NAME",
                     "run 'torchprobe layers " + model.path() + "' to list layer names");
  }
  if (options_.batch_size < 1) throw UsageError("bad --batch-size: must be at least 1");
  std::vector<std::string> warnings;
  preprocessing_ = resolve_preprocessing(model, options_.preprocess, warnings);
  for (const auto& w : warnings) warn(w);
  if (model.saved_training() && options_.mode != Mode::kEval) {
    warn("model '" + model.path() + "' was saved in training mode and is probed in mode '" +
         to_string(options_.mode) +
         "': BatchNorm uses each batch's statistics and Dropout is active, so responses depend on "
         "the batch (use --mode eval for deterministic responses)");
  } else if (model.saved_training()) {
    warn("model '" + model.path() + "' was saved in training mode; probing in eval mode "
         "(BatchNorm uses its running statistics). Use --mode as-saved to keep training mode");
  }
  program_ = build_program(model, options_);
}

nlohmann::json Probe::header() const {
  return {
      {"torchprobe", {{"version", TORCHPROBE_VERSION}, {"libtorch", TORCH_VERSION}}},
      {"model",
       {{"path", model_.path()},
        {"sha256", model_.sha256()},
        {"mode", to_string(options_.mode)},
        {"training", model_.training()},
        {"kind", model_.kind()}}},
      {"layers", options_.layers},
      {"readout", options_.readout.to_string()},
      {"truncated", options_.truncate},
      {"preprocess", preprocessing_.to_json()},
  };
}

nlohmann::json Probe::record_for(const StimulusSpec& spec, const at::Tensor& input,
                                 const Captures& captures, int64_t n) const {
  nlohmann::json record;
  record["id"] = spec.id;
  record["input_shape"] = {1, input.size(1), input.size(2), input.size(3)};
  if (spec.is_file()) record["sha256"] = sha256_file(spec.path);
  nlohmann::json responses = nlohmann::json::object();
  for (const auto& capture : captures.captures) {
    Response response = options_.readout.apply(capture.value, n, capture.name);
    responses[capture.name] = {{"shape", response.shape},
                               {"index", response.index},
                               {"values", values_to_json(response.values)}};
  }
  record["responses"] = std::move(responses);
  record["not_called"] = captures.not_called;
  return record;
}

ProbeSummary Probe::run(const std::vector<StimulusSpec>& stimuli, ResultSink& sink) {
  sink.header(header());
  ProbeSummary summary;
  std::set<std::string> warned_not_called;
  std::size_t next = 0;
  while (next < stimuli.size()) {
    // A batch: consecutive stimuli of the same input size, at most batch_size of them.
    std::vector<at::Tensor> inputs;
    std::size_t first = next;
    while (next < stimuli.size() && int64_t(inputs.size()) < options_.batch_size) {
      at::Tensor pixels = render_stimulus(stimuli[next], preprocessing_.channels,
                                          preprocessing_.size);
      at::Tensor input = preprocessing_.normalize(pixels);
      if (!inputs.empty() && input.sizes() != inputs.front().sizes()) break;
      inputs.push_back(std::move(input));
      ++next;
    }
    at::Tensor batch = at::stack(inputs);
    Captures captures = program_.run(batch);
    for (const auto& name : captures.not_called) {
      if (warned_not_called.insert(name).second) {
        warn("layer '" + name + "' was not called in the forward (an untaken branch?); "
             "it is listed under not_called");
      }
    }
    for (std::size_t i = first; i < next; ++i) {
      sink.record(record_for(stimuli[i], batch, captures, int64_t(i - first)));
    }
    summary.stimuli += int64_t(next - first);
    summary.batches += 1;
  }
  sink.finish();
  return summary;
}

}  // namespace torchprobe
