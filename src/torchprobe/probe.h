#pragma once
// A probing run: stimuli in, one record of layer responses per stimulus out.
//
//   auto model = torchprobe::Model::load("googlenet.pt");
//   torchprobe::ProbeOptions options;
//   options.layers = {"conv1", "inception3a"};
//   torchprobe::Probe probe(model, options, [](const std::string& w) { std::cerr << w << "\n"; });
//   torchprobe::JsonDocumentWriter out("responses.json");
//   probe.run({torchprobe::StimulusSpec::parse("uniform:1")}, out);
#include <functional>
#include <string>
#include <vector>

#include "torchprobe/capture.h"
#include "torchprobe/model.h"
#include "torchprobe/output/result_sink.h"
#include "torchprobe/preprocess.h"
#include "torchprobe/readout.h"
#include "torchprobe/stimulus.h"

namespace torchprobe {

using WarningHandler = std::function<void(const std::string&)>;

struct ProbeOptions {
  std::vector<std::string> layers;
  Readout readout;
  bool truncate = true;
  int64_t batch_size = 16;
  Mode mode = Mode::kEval;
  PreprocessOptions preprocess;
};

struct ProbeSummary {
  int64_t stimuli = 0;
  int64_t batches = 0;
};

class Probe {
 public:
  // Sets the model's mode and builds the capture program once. Throws UsageError,
  // UnknownLayerError, CaptureError.
  Probe(Model& model, ProbeOptions options, WarningHandler warn = {});

  // The output's top-level fields (everything but "stimuli").
  nlohmann::json header() const;
  // Probes the stimuli in order, in batches of equally sized inputs, sending one record each.
  // Throws StimulusError, ForwardError, ReadoutError, OutputError.
  ProbeSummary run(const std::vector<StimulusSpec>& stimuli, ResultSink& sink);

  const CaptureProgram& program() const { return program_; }
  const Preprocessing& preprocessing() const { return preprocessing_; }

 private:
  void warn(const std::string& message) const {
    if (warn_) warn_(message);
  }
  nlohmann::json record_for(const StimulusSpec& spec, const at::Tensor& input,
                            const Captures& captures, int64_t n) const;

  Model& model_;
  ProbeOptions options_;
  WarningHandler warn_;
  Preprocessing preprocessing_;
  CaptureProgram program_;
};

// The JSON form of readout values: a list of floats, nested for multi-dimensional values.
nlohmann::json values_to_json(const at::Tensor& values);

}  // namespace torchprobe
