#pragma once
// Checking the capture rewrite on a model: truncated program against the full forward, and
// against a plain re-run.
//
//   auto model = torchprobe::Model::load("googlenet.pt");
//   torchprobe::VerifyOptions options;
//   options.layers = {"conv1", "inception3a"};
//   std::vector<std::string> warnings;
//   auto report = torchprobe::verify_captures(model, {torchprobe::StimulusSpec::parse("noise:1")},
//                                             options, warnings);
//   if (!report.passed()) ...   // report.captures[i]: which check failed, by how much
//
// For each stimulus (batch of one, preprocessed as `run` does) three programs run: the truncated
// capture program, the untruncated one (the whole forward, same clones) and a second truncated
// program built from scratch ("re-run"). Every capture of the truncated program must be bitwise
// identical (same shape, same bytes) to the other two, and the same captures must exist in all
// three. Bitwise, not within a tolerance: the programs run the same ops on the same inputs, so
// any difference means the rewrite changed what is computed.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "torchprobe/model/model.h"
#include "torchprobe/stimuli/preprocess.h"
#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {

struct VerifyOptions {
  std::vector<std::string> layers;
  Mode mode = Mode::kEval;
  PreprocessOptions preprocess;
};

// One capture name over all stimuli.
struct VerifiedCapture {
  std::string name;
  std::vector<int64_t> shape;    // of the first stimulus' capture, without the batch dimension
  int64_t stimuli = 0;           // stimuli in which the truncated program captured it
  int64_t full_differs = 0;      // stimuli in which truncated != untruncated
  int64_t rerun_differs = 0;     // stimuli in which truncated != re-run
  double full_max_abs_diff = 0;  // over the differing stimuli (inf for a shape mismatch)
  double rerun_max_abs_diff = 0;
  std::vector<std::string> problems;  // e.g. "noise:1: missing from the untruncated program"

  bool passed() const { return full_differs == 0 && rerun_differs == 0 && problems.empty(); }
};

struct VerifyReport {
  std::string model;
  std::vector<std::string> stimuli;
  std::vector<VerifiedCapture> captures;  // in capture order of the first stimulus
  std::vector<std::string> not_called;    // requests that no program called
  // Convolutions in each program, to show what truncation removed.
  std::size_t truncated_convolutions = 0;
  std::size_t full_convolutions = 0;

  bool passed() const;
  nlohmann::json to_json() const;
};

// Sets the model's mode. Throws what CaptureProgram::build and Preprocessing::prepare throw
// (UnknownLayerError, CaptureError, StimulusError, ForwardError, UsageError).
VerifyReport verify_captures(Model& model, const std::vector<StimulusSpec>& stimuli,
                             const VerifyOptions& options, std::vector<std::string>& warnings);

}  // namespace torchprobe
