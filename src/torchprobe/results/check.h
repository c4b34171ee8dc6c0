#pragma once
// Re-running the probe a golden output records, on a (possibly changed) model, and diffing.
//
//   auto golden = torchprobe::read_results("golden/resnet18.json");
//   auto model = torchprobe::Model::load("resnet18.pt");
//   torchprobe::CheckResult result = torchprobe::check_model(model, golden, {});
//   if (!result.report.same()) std::cout << torchprobe::format_diff_table(result.report);
//
// What is taken from the golden file's header (see recorded_probe):
//   layers, readout, truncated, model.mode,
//   batch_size (when recorded)                    -> ProbeOptions as recorded
//   preprocess.name, size, fit, and mean/std      -> PreprocessOptions (preprocess none|imagenet|
//     for a name other than none|imagenet|model      model, size, fit, mean/std)
//   stimuli[].id                                  -> stimulus specs, in the recorded order
//   stimuli[].sha256                              -> compared with the stimulus file first
// The preprocessing actually applied is recorded in the new header and compared field by field
// by the diff (mean, std, size, channels, fit, ...): a model whose metadata now asks for another
// normalisation fails the check as a difference. Header fields this version does not know are
// ignored. Records of stimuli that failed (skip_bad error records) are not re-run.
//
// Stimulus files: an id that is not an absolute path is looked up in `stimulus_root` if given,
// else relative to the working directory, else relative to the golden file's directory.
#include <string>
#include <vector>

#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"
#include "torchprobe/results/diff.h"
#include "torchprobe/results/results_reader.h"
#include "torchprobe/run/probe.h"

namespace torchprobe {

// A stimulus file that is missing or whose bytes changed since the golden file was written:
// the check cannot tell a model change from a stimulus change, so it does not run.
// Exit code kStimulus.
class StimulusChangedError : public StimulusError {
 public:
  using StimulusError::StimulusError;
};

struct CheckOptions {
  Tolerance tolerance;
  std::string stimulus_root;
  int64_t batch_size = 0;  // 0: the golden header's "batch_size" if recorded, else 16
};

struct RecordedProbe {
  ProbeOptions options;
  std::vector<StimulusSpec> stimuli;  // in the golden order; ids as recorded
  std::vector<std::string> skipped;   // ids of error records, not re-run
};

// The probe a golden output records. Throws ResultsFormatError for a header without what a
// re-run needs (layers, a readout this version knows), StimulusChangedError for missing or
// changed stimulus files (all of them named). Probe then throws UsageError for a preprocessing
// this version cannot apply (e.g. "model" on a model without metadata).
RecordedProbe recorded_probe(const Results& golden, const std::string& stimulus_root);

struct CheckResult {
  DiffReport report;  // golden = baseline, the re-run = candidate
  Results rerun;      // the new responses
  std::vector<std::string> skipped;
};

// Runs the recorded probe on `model` and diffs it against `golden`. `sink`, if given, also
// receives the new responses (e.g. a JsonDocumentWriter). Throws what recorded_probe, Probe and
// diff_results throw.
CheckResult check_model(Model& model, const Results& golden, const CheckOptions& options,
                        WarningHandler warn = {}, ResultSink* sink = nullptr);

}  // namespace torchprobe
