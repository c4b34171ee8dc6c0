#include "torchprobe/run/probe.h"

#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "torchprobe/detail/json_text.h"
#include "torchprobe/detail/sha256.h"
#include "torchprobe/errors.h"
#include "torchprobe/run/batch_loader.h"
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
  model.set_channels_last(options.channels_last);
  return CaptureProgram::build(model, options.layers, CaptureOptions{options.truncate});
}

// Throws when the resume point lies outside the shard's planned stimuli.
void check_resume_point(int64_t resume_from, int64_t planned) {
  if (resume_from < 0 || resume_from > planned) {
    throw Error(ExitCode::kInternal, "resume point " + std::to_string(resume_from) +
                                         " is outside the " + std::to_string(planned) + " stimuli");
  }
}

// The batch a run starts at. Resuming mid-batch runs that batch whole, so that every record is
// computed in the same batch as in an uninterrupted run (the numbers can depend on the batch in
// the last bits); the records already written are not sent again.
std::size_t first_batch_to_run(const BatchPlan& plan, int64_t resume_from, int64_t planned) {
  std::size_t first_batch = plan.batches();
  if (resume_from < planned) {
    auto after = std::upper_bound(plan.begin.begin(), plan.begin.end(), std::size_t(resume_from));
    first_batch = std::size_t(after - plan.begin.begin()) - 1;
  }
  return first_batch;
}

// Prepares batch b of the plan (on a loader worker thread): renders each stimulus over the crop
// box (crop_box non-null) or its whole input of `size`, hands it to on_input and stacks them.
// With skip_bad, a stimulus that throws StimulusError is listed under `failed` instead.
detail::PreparedBatch prepare_batch(const std::vector<StimulusSpec>& stimuli, const BatchPlan& plan,
                                    std::size_t b, const Size2& size, const CropPlan* crop_box,
                                    const Preprocessing& preprocessing, const ProbeOptions& options,
                                    bool skip_bad) {
  detail::PreparedBatch out;
  out.height = size.height;
  out.width = size.width;
  out.cropped = crop_box != nullptr;
  const PixelRegion region = out.cropped ? crop_box->region() : PixelRegion::whole(size);
  std::vector<at::Tensor> inputs;
  for (std::size_t j = plan.begin[b]; j < plan.begin[b + 1]; ++j) {
    const int64_t index = plan.order[j];
    const StimulusSpec& spec = stimuli[std::size_t(index)];
    try {
      RenderedStimulus input = preprocessing.prepare_region(spec, region);
      if (options.on_input) options.on_input(spec, input.pixels);
      if (input.pixels.size(1) != region.height || input.pixels.size(2) != region.width) {
        throw Error(ExitCode::kInternal, "stimulus '" + spec.id + "' was rendered at " +
                                             std::to_string(input.pixels.size(1)) + "x" +
                                             std::to_string(input.pixels.size(2)) +
                                             ", planned at " + to_string(region.size()));
      }
      inputs.push_back(std::move(input.pixels));
      out.indices.push_back(index);
      out.sha256.push_back(std::move(input.sha256));
    } catch (const StimulusError& e) {
      if (!skip_bad) throw;
      out.failed.emplace_back(index, e.what());
    }
  }
  if (!inputs.empty()) out.input = at::stack(inputs);
  return out;
}

// Throws Error(kTerminated or kInterrupted), saying how far the run got, when control.stop asks
// the run to stop.
void throw_if_stop_requested(const RunControl& control, int64_t done, int64_t planned) {
  const StopRequest stop = control.stop ? control.stop() : StopRequest::kNone;
  if (stop != StopRequest::kNone) {
    const bool terminate = stop == StopRequest::kTerminate;
    throw Error(terminate ? ExitCode::kTerminated : ExitCode::kInterrupted,
                std::string(terminate ? "terminated" : "interrupted") + " after " +
                    std::to_string(done) + " of " + std::to_string(planned) + " stimuli");
  }
}

// Seconds since construction, on the steady clock: a run's elapsed time.
class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Runs the forward on a prepared batch: as it is when it holds the crop box already or there is
// no crop plan for its size, else on its crop box.
Captures run_forward(const CaptureProgram& program, const detail::PreparedBatch& batch,
                     const CropPlan* crop) {
  if (batch.cropped || !crop) return program.run(batch.input);
  return program.run(crop->crop(batch.input));
}

// Warns about each layer not called in this forward, once per run (`warned` holds those warned
// about already).
void warn_not_called(const Captures& captures, std::set<std::string>& warned,
                     const WarningHandler& warn) {
  for (const auto& name : captures.not_called) {
    if (warned.insert(name).second) {
      warn("layer '" + name +
           "' was not called in the forward (an untaken branch?); "
           "it is listed under not_called");
    }
  }
}

// The input_shape of a batch's records: one stimulus's model input, [1, C, H, W]; empty when
// no stimulus of the batch rendered.
std::vector<int64_t> record_input_shape(const detail::PreparedBatch& batch) {
  if (!batch.input.defined()) return {};
  return {1, batch.input.size(1), batch.height, batch.width};
}

// Builds the responses record of a stacked stimulus: (its index in the list, its position in the
// batch's input).
using ResponseRecord = std::function<nlohmann::json(int64_t index, std::size_t stacked)>;

// Sends the records of batch b in list order: an error record for each stimulus that failed to
// render (skip_bad), the responses record for the others. Records before resume_from are in the
// output already: not sent again, but still counted for the stacked positions.
void send_batch_records(const std::vector<StimulusSpec>& stimuli, const BatchPlan& plan,
                        std::size_t b, const detail::PreparedBatch& batch, int64_t resume_from,
                        const ResponseRecord& response_record, ResultSink& sink,
                        RunProgress& progress) {
  std::size_t stacked = 0;
  std::size_t failed = 0;
  for (std::size_t j = plan.begin[b]; j < plan.begin[b + 1]; ++j) {
    const int64_t index = plan.order[j];
    const bool written = int64_t(j) < resume_from;
    if (failed < batch.failed.size() && batch.failed[failed].first == index) {
      if (!written) {
        sink.record({{"id", stimuli[std::size_t(index)].id},
                     {"index", index},
                     {"error", batch.failed[failed].second}});
        progress.bad += 1;
        progress.done += 1;
      }
      ++failed;
    } else {
      if (!written) {
        sink.record(response_record(index, stacked));
        progress.done += 1;
      }
      ++stacked;
    }
  }
}

}  // namespace

nlohmann::json values_to_json(const at::Tensor& values) {
  at::Tensor v = values.to(at::kFloat).contiguous();
  if (v.dim() == 0) return json_float(v.item<float>());
  return values_of(v.data_ptr<float>(), v.sizes(), v.strides());
}

// NOTE: the handler parameter must not be called `warn`: it would hide the member function in
// the body, and calling the moved-from handler throws std::bad_function_call.
Probe::Probe(Model& model, ProbeOptions options, WarningHandler warning_handler)
    : model_(model), options_(std::move(options)), warn_(std::move(warning_handler)) {
  require_layers(options_.layers, model.path());
  if (options_.batch_size < 1) throw UsageError("bad {batch_size}: must be at least 1");
  std::vector<std::string> warnings;
  preprocessing_ = resolve_preprocessing(model, options_.preprocess, warnings);
  for (const auto& w : warnings) warn(w);
  if (model.saved_training() && options_.mode != Mode::kEval) {
    warn("model '" + model.path() + "' was saved in training mode and is probed in mode '" +
         to_string(options_.mode) +
         "': BatchNorm uses each batch's statistics and Dropout is active, so responses depend on "
         "the batch (use {mode} eval for deterministic responses)");
  } else if (model.saved_training()) {
    warn("model '" + model.path() +
         "' was saved in training mode; probing in eval mode "
         "(BatchNorm uses its running statistics). Use {mode} as-saved to keep training mode");
  }
  program_ = build_program(model, options_);
  // NOTE: an `if` on the input's values is decided once per forward, so a batch would take one
  // branch for all its stimuli (hooks run one stimulus per forward): run such a model one by one.
  if (options_.batch_size > 1) {
    if (auto where = program_.value_dependent_branch()) {
      warn("the forward branches on the input's values (" + *where +
           "): probing one stimulus per forward instead of batches of " +
           std::to_string(options_.batch_size) + ", so that each stimulus takes its own branch");
      options_.batch_size = 1;
    }
  }
  if (!options_.readout.is_point()) {
    no_crop_reason_ = "the readout is not a point readout";
  } else if (!options_.crop) {
    no_crop_reason_ = "turned off";
  } else if (!options_.truncate) {
    // The whole forward needs the whole input: a crop fits the captures, not the layers after.
    no_crop_reason_ = "the whole forward runs (not truncated)";
  }
}

std::vector<Size2> Probe::input_sizes(const std::vector<StimulusSpec>& stimuli) const {
  std::vector<Size2> sizes;
  for (const auto& spec : stimuli) {
    const Size2 size = input_size(spec);
    if (std::find(sizes.begin(), sizes.end(), size) == sizes.end()) sizes.push_back(size);
  }
  if (sizes.empty()) sizes.push_back(preprocessing_.size);
  return sizes;
}

const CropPlan& Probe::crop_plan(const Size2& size) const {
  const std::pair<int64_t, int64_t> key{size.height, size.width};
  auto found = crop_plans_.find(key);
  if (found != crop_plans_.end()) return found->second;
  CropPlan plan;
  plan.input = size;
  plan.reason = no_crop_reason_;
  if (no_crop_reason_.empty()) {
    try {
      plan = plan_crop(program_, options_.readout, preprocessing_.channels, size);
    } catch (const ForwardError&) {
      // The batches of this size run uncropped and report the failure with their own shape.
      plan.forward_fails = true;
      plan.reason = "the forward fails on input size " + to_string(size);
    }
  }
  return crop_plans_.emplace(key, std::move(plan)).first->second;
}

void Probe::require_batch_memory(const std::vector<StimulusSpec>& stimuli) const {
  constexpr int64_t kMaxBatchBytes = int64_t(4) << 30;
  std::map<std::pair<int64_t, int64_t>, int64_t> count;  // stimuli per input size
  for (const auto& spec : stimuli) {
    const Size2 size = input_size(spec);
    count[{size.height, size.width}] += 1;
  }
  for (const auto& [size, n] : count) {
    const int64_t image_bytes = preprocessing_.channels * size.first * size.second * 4;
    const int64_t batch = std::min(options_.batch_size, n);
    if (batch * image_bytes <= kMaxBatchBytes) continue;
    throw UsageError(
        "bad {batch_size} " + std::to_string(options_.batch_size) + " for " +
            to_string(Size2{size.first, size.second}) + " inputs: a batch would hold " +
            std::to_string((batch * image_bytes) >> 20) + " MiB of input, more than 4096 MiB",
        "give a smaller {batch_size}, at most " +
            std::to_string(std::max<int64_t>(1, kMaxBatchBytes / image_bytes)));
  }
}

std::map<std::pair<int64_t, int64_t>, const CropPlan*> Probe::active_crop_plans(
    const std::vector<StimulusSpec>& stimuli) const {
  const std::vector<Size2> sizes = input_sizes(stimuli);
  warn_unused_crops(sizes);
  std::map<std::pair<int64_t, int64_t>, const CropPlan*> active;
  for (const auto& size : sizes) {
    const CropPlan& crop = crop_plan(size);
    if (crop.active) active[{size.height, size.width}] = &crop;
  }
  return active;
}

void Probe::warn_unused_crops(const std::vector<Size2>& sizes) const {
  if (!no_crop_reason_.empty()) return;
  for (const auto& size : sizes) {
    const CropPlan& plan = crop_plan(size);
    if (plan.active || plan.forward_fails) continue;
    warn("receptive-field cropping not used" +
         (sizes.size() > 1 ? " for " + to_string(size) + " inputs" : std::string()) + ": " +
         plan.reason + " (computing on the full input)");
  }
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
      {"channels_last", options_.channels_last},
      {"preprocess", preprocessing_.to_json()},
  };
}

nlohmann::json Probe::header(const std::vector<StimulusSpec>& stimuli, const Shard& shard) const {
  nlohmann::json out = header();
  out["batch_size"] = options_.batch_size;
  // NOTE: ids are joined with '\n'; the digest only has to tell two lists apart, for resuming
  // and merge, which cannot see the list itself.
  std::string ids;
  for (const auto& spec : stimuli) {
    ids += spec.id;
    ids += '\n';
  }
  out["stimulus_list"] = {{"count", stimuli.size()},
                          {"sha256", sha256_bytes(ids.data(), ids.size())}};
  // Over the whole list, not the shard: every part of a sharded run has the same header.
  const std::vector<Size2> sizes = input_sizes(stimuli);
  require_batch_memory(stimuli);
  nlohmann::json plans = nlohmann::json::array();
  for (const auto& size : sizes) plans.push_back(crop_plan(size).to_json());
  out["crop"] = plans[0];
  out["crop_plans"] = plans;
  if (!shard.whole()) {
    out["shard"] = {{"index", shard.index},
                    {"count", shard.count},
                    {"stimuli", plan(stimuli, shard).order.size()}};
  }
  return out;
}

Size2 Probe::input_size(const StimulusSpec& spec) const {
  // Files are resized (or cropped) to the target size; synthetic stimuli are made at their @HxW.
  return spec.size.value_or(preprocessing_.size);
}

BatchPlan Probe::plan(const std::vector<StimulusSpec>& stimuli, const Shard& shard) const {
  // The batches of an unsharded run, numbered over the whole list; the shard keeps its own.
  BatchPlan plan;
  plan.begin.push_back(0);
  int64_t batch_number = -1;
  int64_t in_batch = 0;
  Size2 batch_size{-1, -1};
  for (std::size_t i = 0; i < stimuli.size(); ++i) {
    Size2 size = input_size(stimuli[i]);
    if (batch_number < 0 || in_batch == options_.batch_size || !(size == batch_size)) {
      if (batch_number >= 0 && shard.owns(batch_number) && plan.order.size() > plan.begin.back()) {
        plan.begin.push_back(plan.order.size());
      }
      ++batch_number;
      in_batch = 0;
      batch_size = size;
    }
    ++in_batch;
    if (shard.owns(batch_number)) plan.order.push_back(int64_t(i));
  }
  if (plan.order.size() > plan.begin.back()) plan.begin.push_back(plan.order.size());
  return plan;
}

nlohmann::json Probe::record_for(const StimulusSpec& spec, int64_t index,
                                 const std::vector<int64_t>& input_shape,
                                 const std::optional<std::string>& sha256, const Captures& captures,
                                 int64_t n, const CropPlan* crop) const {
  nlohmann::json record;
  record["id"] = spec.id;
  record["index"] = index;
  record["input_shape"] = input_shape;
  if (sha256) record["sha256"] = *sha256;
  nlohmann::json responses = nlohmann::json::object();
  for (const auto& capture : captures.captures) {
    Response response =
        crop ? crop->read(capture, n) : options_.readout.apply(capture.value, n, capture.name);
    responses[capture.name] = {{"shape", response.shape},
                               {"index", response.index},
                               {"values", values_to_json(response.values)}};
  }
  record["responses"] = std::move(responses);
  record["not_called"] = captures.not_called;
  return record;
}

ProbeSummary Probe::run(const std::vector<StimulusSpec>& stimuli, ResultSink& sink,
                        const RunControl& control) {
  const Stopwatch stopwatch;
  const BatchPlan plan = this->plan(stimuli, control.shard);
  const int64_t planned = int64_t(plan.order.size());
  check_resume_point(control.resume_from, planned);
  sink.header(header(stimuli, control.shard));
  const auto active_crops = active_crop_plans(stimuli);

  ProbeSummary summary;
  summary.listed = int64_t(stimuli.size());
  summary.planned = planned;
  summary.resumed = control.resume_from;
  RunProgress progress;
  progress.total = planned - control.resume_from;
  progress.resumed = control.resume_from;
  const std::size_t first_batch = first_batch_to_run(plan, control.resume_from, planned);

  auto crop_for = [&](int64_t height, int64_t width) -> const CropPlan* {
    auto found = active_crops.find({height, width});
    return found == active_crops.end() ? nullptr : found->second;
  };
  // Batches of a size with an active crop are prepared as their crop box only: the same values
  // as cropping the whole input (prepare_region), but resizing and normalising touch a few
  // pixels instead of all. Not when the whole input is wanted (on_input).
  // Runs on the loader's worker threads: everything up to the stacked input tensor.
  auto prepare = [&](std::size_t b) {
    const Size2 size = input_size(stimuli[std::size_t(plan.order[plan.begin[b]])]);
    const CropPlan* crop_box = options_.on_input ? nullptr : crop_for(size.height, size.width);
    return prepare_batch(stimuli, plan, b, size, crop_box, preprocessing_, options_,
                         control.skip_bad);
  };
  detail::BatchLoader loader(first_batch, plan.batches(), control.workers, prepare);

  std::set<std::string> warned_not_called;
  for (std::size_t b = first_batch; b < plan.batches(); ++b) {
    throw_if_stop_requested(control, control.resume_from + progress.done, planned);
    detail::PreparedBatch batch = loader.next();
    Captures captures;
    const CropPlan* crop = nullptr;
    if (batch.input.defined()) {
      crop = crop_for(batch.height, batch.width);
      captures = run_forward(program_, batch, crop);
      summary.batches += 1;
      warn_not_called(captures, warned_not_called, [this](const std::string& w) { warn(w); });
    }
    const std::vector<int64_t> input_shape = record_input_shape(batch);
    auto response_record = [&](int64_t index, std::size_t stacked) {
      return record_for(stimuli[std::size_t(index)], index, input_shape, batch.sha256[stacked],
                        captures, int64_t(stacked), crop);
    };
    send_batch_records(stimuli, plan, b, batch, control.resume_from, response_record, sink,
                       progress);
    sink.flush();
    progress.seconds = stopwatch.seconds();
    if (control.progress) control.progress(progress);
  }
  sink.finish();
  summary.stimuli = progress.done;
  summary.bad = progress.bad;
  summary.seconds = stopwatch.seconds();
  return summary;
}

}  // namespace torchprobe
