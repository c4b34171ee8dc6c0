#pragma once
// Comparing two torchprobe outputs stimulus by stimulus and layer by layer.
//
//   auto baseline = torchprobe::read_results("golden.json");
//   auto candidate = torchprobe::read_results("today.jsonl");
//   torchprobe::DiffReport report = torchprobe::diff_results(baseline, candidate, {});
//   if (!report.same()) std::cout << torchprobe::format_diff_table(report);
//
// Tolerance (numpy.isclose with the baseline as reference, plus a term scaled to the response): a
// value is within tolerance when
//     |candidate - baseline| <= atol + rtol * |baseline| + scale_tol * max |baseline of the
//     response|
// with defaults rtol = 1e-5, atol = 1e-6, scale_tol = 0 (float32 has 24 bits, about 6e-8
// relative; a re-run of the same model in another LibTorch build or on another CPU typically
// stays within 1e-5 relative). scale_tol is for goldens checked on other CPUs: the rounding of a
// sum computed in another order grows with the magnitude of the terms summed, so a small value in
// a layer of large ones moves by a fraction of the layer's magnitude, not of its own (resnet18's
// layer4 under AVX2 vs AVX-512 kernels: up to 6e-6 of the response's largest magnitude). NaN equals
// NaN (the files write NaN and infinities as null); NaN against a number is out of tolerance with
// an infinite error. The relative error |candidate - baseline| / |baseline| is only defined where
// the baseline is not 0; those values do not count towards max_rel_error.
//
// What counts as a difference (and makes `torchprobe diff` exit 1): a stimulus or a layer present
// in one output only; a stimulus that failed in one output only; a changed input shape, capture
// shape, readout position or number of values; a changed not_called list; any value out of
// tolerance; a different readout, mode or preprocessing in the headers. Differences in the model
// file, tool versions, layer request list and truncation are reported as notes only.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "torchprobe/errors.h"
#include "torchprobe/results/results_reader.h"

namespace torchprobe {

constexpr double kDefaultRtol = 1e-5;
constexpr double kDefaultAtol = 1e-6;

struct Tolerance {
  double rtol = kDefaultRtol;
  double atol = kDefaultAtol;
  double scale_tol = 0;  // times the largest |baseline| value of the response
};
// UsageError unless each is finite and not negative (numbers.h).
void require_tolerances(const Tolerance& tolerance);

// One value of one response: where it is and how far the two outputs are apart there.
struct ValueLocation {
  std::string stimulus;
  std::string layer;
  int64_t index = 0;              // flat (row-major) index into the response's values
  std::vector<int64_t> position;  // the same as an index into the values' dimensions
  double baseline = 0;
  double candidate = 0;
  double abs_error = 0;             // inf when exactly one of the two is NaN
  std::optional<double> rel_error;  // none where the baseline is 0
  // The channel: the first coordinate of the values (every readout puts channels first).
  std::optional<int64_t> channel() const {
    return position.empty() ? std::nullopt : std::optional<int64_t>(position[0]);
  }
};

struct Difference {
  enum class Kind {
    kHeader,           // readout, mode or preprocessing differ
    kMissingStimulus,  // in the baseline only
    kExtraStimulus,    // in the candidate only
    kStimulusError,    // a record is an error record ({"id", "error"}) in one output only
    kInputShape,
    kNotCalled,
    kMissingLayer,  // a response in the baseline only
    kExtraLayer,    // a response in the candidate only
    kShape,         // the captured tensor's shape
    kIndex,         // the readout position
    kValueCount,    // values of different dimensions (e.g. another readout)
    kValues,        // values out of tolerance
  };
  Kind kind = Kind::kValues;
  std::string stimulus;     // empty for header differences
  std::string layer;        // response name, or the header field for kHeader
  nlohmann::json baseline;  // what differs: the shape, index, ... (null when absent)
  nlohmann::json candidate;
  int64_t values = 0;                  // kValues: values compared
  int64_t out_of_tolerance = 0;        // kValues: how many of them are out of tolerance
  std::optional<ValueLocation> worst;  // kValues: the out-of-tolerance value of largest error

  std::string message() const;  // one line, e.g. "stimulus 'noise:7' layer 'conv1': shape ..."
};

std::string to_string(Difference::Kind kind);  // "values", "missing_layer", ...

// Per response name, over all stimuli.
struct LayerSummary {
  std::string layer;
  int64_t responses = 0;            // stimuli in which both outputs have this response
  int64_t responses_different = 0;  // ... and they differ in any way
  int64_t values = 0;               // values compared
  int64_t out_of_tolerance = 0;
  bool missing = false;  // in no candidate record at all
  bool extra = false;    // in no baseline record at all
  std::optional<ValueLocation> max_abs;
  std::optional<ValueLocation> max_rel;
};

struct DiffReport {
  struct Side {
    std::string path;
    std::string format;  // json | jsonl
    int64_t stimuli = 0;
  };
  Side baseline;
  Side candidate;
  Tolerance tolerance;
  std::vector<std::string> notes;  // header differences that do not count
  std::vector<Difference> differences;
  // In the order of the baseline header's "layers" (the order requested), then by name.
  std::vector<LayerSummary> layers;
  int64_t stimuli_compared = 0;
  int64_t responses_compared = 0;
  int64_t responses_different = 0;
  int64_t values_compared = 0;
  int64_t values_out_of_tolerance = 0;
  std::optional<ValueLocation> max_abs;
  std::optional<ValueLocation> max_rel;

  bool same() const { return differences.empty(); }
  // The machine-readable report (`torchprobe diff` in JSON; schema in the README).
  nlohmann::json to_json() const;
};

// Throws UsageError for a negative or non-finite tolerance.
DiffReport diff_results(const Results& baseline, const Results& candidate,
                        const Tolerance& tolerance);

// The human-readable report: a per-layer table, then one line per difference (at most
// `max_differences`, then a count of the rest), then the verdict.
// Settings the table mentions are named by `name_of` (errors.h).
std::string format_diff_table(const DiffReport& report, std::size_t max_differences = 20,
                              const SettingNamer& name_of = field_name);

}  // namespace torchprobe
