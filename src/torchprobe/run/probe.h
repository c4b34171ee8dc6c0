#pragma once
// A probing run: stimuli in, one record of layer responses per stimulus out.
//
//   auto model = torchprobe::Model::load("googlenet.pt");
//   torchprobe::ProbeOptions options;
//   options.layers = {"conv1", "inception3a"};
//   torchprobe::Probe probe(model, options, [](const std::string& w) { std::cerr << w << "\n"; });
//   torchprobe::JsonDocumentWriter out("responses.json");
//   probe.run({torchprobe::StimulusSpec::parse("uniform:1")}, out);
//
// At scale (see RunControl): stream to JSON Lines, prepare batches on worker threads, probe one
// shard of the list, continue after what an interrupted run wrote, report progress:
//
//   torchprobe::JsonlWriter lines("part-2-of-4.jsonl");
//   torchprobe::RunControl control;
//   control.shard = torchprobe::Shard::parse("2/4");
//   control.workers = 2;
//   control.progress = [](const torchprobe::RunProgress& p) { /* p.done of p.total */ };
//   probe.run(stimuli, lines, control);
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "torchprobe/capture/capture.h"
#include "torchprobe/capture/readout.h"
#include "torchprobe/capture/receptive_field.h"
#include "torchprobe/model/model.h"
#include "torchprobe/output/result_sink.h"
#include "torchprobe/run/shard.h"
#include "torchprobe/stimuli/preprocess.h"
#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {

using WarningHandler = std::function<void(const std::string&)>;

struct ProbeOptions {
  std::vector<std::string> layers;
  Readout readout;
  bool truncate = true;
  int64_t batch_size = 16;
  Mode mode = Mode::kEval;
  PreprocessOptions preprocess;
  // Receptive-field cropping for point readouts (receptive_field.h).
  bool crop = true;
  // Convolutions in channels-last layout (Model::set_channels_last).
  bool channels_last = true;
  // Called with each stimulus's model input [C,H,W] after preprocessing, e.g. to save it
  // (the CLI's input dumps). May be called on loader worker threads, concurrently.
  std::function<void(const StimulusSpec&, const at::Tensor&)> on_input;
};

// Reported after every batch.
struct RunProgress {
  int64_t done = 0;     // stimuli this run has written records for (bad ones included)
  int64_t total = 0;    // stimuli this run has to do: the shard's, less those resumed
  int64_t resumed = 0;  // stimuli skipped because the output already holds them
  int64_t bad = 0;      // of done: written as error records (skip_bad)
  double seconds = 0;   // since run() started
};

enum class StopRequest { kNone, kInterrupt, kTerminate };

// How run() goes about a list; the defaults probe everything once, on the calling thread.
struct RunControl {
  Shard shard;              // the part of the list to probe (shard.h); default: all of it
  int64_t resume_from = 0;  // the shard's first records are in the output already (resume.h)
  bool skip_bad = false;    // a StimulusError gives {"id", "index", "error"} instead of throwing
  int workers = 0;          // threads preparing the next batches; 0: on the calling thread
  std::function<void(const RunProgress&)> progress;  // after every batch
  // Checked between batches: kInterrupt throws Error(kInterrupted), kTerminate
  // Error(kTerminated), each saying how far the run got.
  std::function<StopRequest()> stop;
};

struct ProbeSummary {
  int64_t stimuli = 0;  // records written by this run (probed + bad)
  int64_t batches = 0;  // forwards run
  int64_t listed = 0;   // stimuli in the whole list
  int64_t planned = 0;  // stimuli in this shard
  int64_t resumed = 0;  // skipped: already in the output
  int64_t bad = 0;      // error records written by this run (skip_bad)
  double seconds = 0;
};

// The batches of a shard: batch i holds the stimuli order[begin[i]] .. order[begin[i+1] - 1]
// (indices into the whole list).
struct BatchPlan {
  std::vector<int64_t> order;
  std::vector<std::size_t> begin;  // one more entry than there are batches
  std::size_t batches() const { return begin.empty() ? 0 : begin.size() - 1; }
};

class Probe {
 public:
  // Sets the model's mode and builds the capture program once. Throws UsageError,
  // UnknownLayerError, CaptureError.
  Probe(Model& model, ProbeOptions options, WarningHandler warn = {});

  // The output's top-level fields that do not depend on the stimuli.
  nlohmann::json header() const;
  // The header run() writes: header() plus "batch_size", "stimulus_list" ({"count", "sha256"
  // of the ids, each followed by a newline}), "crop_plans" (the crop plan of each input size the
  // stimuli use, in order of first use; "crop" is the first of them) and, for a part of a sharded
  // run, "shard" ({"index": K, "count": N, "stimuli": how many this part holds}). Throws
  // ReadoutError for an at:Y,X outside a captured map, UsageError for batches over 4 GiB.
  nlohmann::json header(const std::vector<StimulusSpec>& stimuli, const Shard& shard) const;
  // How run() groups a shard's stimuli into batches (shard.h).
  BatchPlan plan(const std::vector<StimulusSpec>& stimuli, const Shard& shard) const;

  // Probes the stimuli in order, in batches of equally sized inputs, sending one record each
  // ({"id", "index", "input_shape", "sha256"?, "responses", "not_called"}) and flushing the
  // sink after every batch. Throws StimulusError (naming the stimulus; not with skip_bad),
  // ForwardError, ReadoutError, OutputError, Error(kInterrupted or kTerminated) when control.stop
  // says so.
  ProbeSummary run(const std::vector<StimulusSpec>& stimuli, ResultSink& sink,
                   const RunControl& control = {});

  const CaptureProgram& program() const { return program_; }
  const Preprocessing& preprocessing() const { return preprocessing_; }

 private:
  void warn(const std::string& message) const {
    if (warn_) warn_(message);
  }
  Size2 input_size(const StimulusSpec& spec) const;
  // The distinct input sizes of the stimuli, in order of first use (the default size for none).
  std::vector<Size2> input_sizes(const std::vector<StimulusSpec>& stimuli) const;
  // The crop plan for inputs of `size`, planned on first use; inactive, with the reason, when
  // not cropping. NOTE: not thread-safe (it fills crop_plans_): run() plans every size before
  // its loader threads start.
  const CropPlan& crop_plan(const Size2& size) const;
  // UsageError when a batch of the stimuli's inputs of one size would hold more than 4 GiB (a
  // float32 [batch, C, H, W] tensor), before the network's activations.
  void require_batch_memory(const std::vector<StimulusSpec>& stimuli) const;
  // The active crop plan of each input size the stimuli use, by (height, width), planned here
  // on the calling thread so that the loader's threads only read them; warns about the sizes
  // whose plan could have cropped and does not.
  std::map<std::pair<int64_t, int64_t>, const CropPlan*> active_crop_plans(
      const std::vector<StimulusSpec>& stimuli) const;
  // Warns about each size whose crop plan could have been used and is not.
  void warn_unused_crops(const std::vector<Size2>& sizes) const;
  nlohmann::json record_for(const StimulusSpec& spec, int64_t index,
                            const std::vector<int64_t>& input_shape,
                            const std::optional<std::string>& sha256, const Captures& captures,
                            int64_t n, const CropPlan* crop = nullptr) const;

  Model& model_;
  ProbeOptions options_;
  WarningHandler warn_;
  Preprocessing preprocessing_;
  CaptureProgram program_;
  std::string no_crop_reason_;  // why no input is cropped ("" when a plan may crop)
  mutable std::map<std::pair<int64_t, int64_t>, CropPlan> crop_plans_;  // by input size
};

// The JSON form of readout values: a list of floats, nested for multi-dimensional values.
nlohmann::json values_to_json(const at::Tensor& values);

}  // namespace torchprobe
