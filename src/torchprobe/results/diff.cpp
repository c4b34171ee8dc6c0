#include "torchprobe/results/diff.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "torchprobe/detail/diff_text.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"
#include "torchprobe/numbers.h"

namespace torchprobe {
namespace {

using detail::json_text;
using detail::location_json;
using detail::number_json;
using detail::number_text;
using detail::position_text;
using detail::quoted;
using detail::tolerance_rule;
using nlohmann::json;

// The largest magnitude among the finite values (0 for none).
double largest_magnitude(const std::vector<double>& values) {
  double largest = 0;
  for (double v : values) {
    if (std::isfinite(v)) largest = std::max(largest, std::fabs(v));
  }
  return largest;
}

std::vector<int64_t> unravel(int64_t index, const std::vector<int64_t>& dims) {
  std::vector<int64_t> position(dims.size());
  for (std::size_t i = dims.size(); i-- > 0;) {
    position[i] = dims[i] ? index % dims[i] : 0;
    index = dims[i] ? index / dims[i] : 0;
  }
  return position;
}

// JSON equality in which numbers are compared as float32: headers hold float32 values (mean,
// std) that read back from text as the nearest double, not as the float32 widened to double.
bool same_json(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_integer() && b.is_number_integer()) return a == b;
    return a.get<float>() == b.get<float>();
  }
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_json(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !same_json(it.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

void keep_max_abs(std::optional<ValueLocation>& best, const ValueLocation& at) {
  if (!best || at.abs_error > best->abs_error) best = at;
}

void keep_max_rel(std::optional<ValueLocation>& best, const ValueLocation& at) {
  if (at.rel_error && (!best || *at.rel_error > *best->rel_error)) best = at;
}

class Differ {
 public:
  Differ(const Results& baseline, const Results& candidate, const Tolerance& tolerance)
      : baseline_(baseline), candidate_(candidate), tolerance_(tolerance) {
    report_.baseline = {baseline.path, to_string(baseline.format),
                        int64_t(baseline.records.size())};
    report_.candidate = {candidate.path, to_string(candidate.format),
                         int64_t(candidate.records.size())};
    report_.tolerance = tolerance;
  }

  DiffReport run() {
    compare_headers();
    compare_stimuli();
    finish_layers();
    return std::move(report_);
  }

 private:
  void add(Difference difference) { report_.differences.push_back(std::move(difference)); }
  // A difference that is named by what differs and the two sides' values (null when absent).
  void add(Difference::Kind kind, const std::string& stimulus, const std::string& layer = "",
           json baseline = nullptr, json candidate = nullptr) {
    Difference d;
    d.kind = kind;
    d.stimulus = stimulus;
    d.layer = layer;
    d.baseline = std::move(baseline);
    d.candidate = std::move(candidate);
    add(std::move(d));
  }

  void header_field(const std::string& field, const json& a, const json& b, bool significant) {
    if (same_json(a, b)) return;
    if (significant) {
      add(Difference::Kind::kHeader, "", field, a, b);
    } else {
      report_.notes.push_back(field + " differs: " + json_text(a) + " in the baseline, " +
                              json_text(b) + " in the candidate");
    }
  }

  static json field(const json& object, const std::string& key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? json(nullptr) : *it;
  }

  void compare_headers() {
    const json& a = baseline_.header;
    const json& b = candidate_.header;
    header_field("readout", field(a, "readout"), field(b, "readout"), true);
    header_field("model.mode", field(field(a, "model"), "mode"), field(field(b, "model"), "mode"),
                 true);
    json pa = field(a, "preprocess"), pb = field(b, "preprocess");
    if (pa.is_object() && pb.is_object()) {
      // Fields one version records and the other does not are not compared.
      for (const auto& [key, value] : pa.items()) {
        if (pb.contains(key)) header_field("preprocess." + key, value, pb[key], key != "name");
      }
    } else {
      header_field("preprocess", pa, pb, true);
    }
    header_field("model.sha256", field(field(a, "model"), "sha256"),
                 field(field(b, "model"), "sha256"), false);
    header_field("layers", field(a, "layers"), field(b, "layers"), false);
    header_field("truncated", field(a, "truncated"), field(b, "truncated"), false);
    header_field("torchprobe.version", field(field(a, "torchprobe"), "version"),
                 field(field(b, "torchprobe"), "version"), false);
    header_field("torchprobe.libtorch", field(field(a, "torchprobe"), "libtorch"),
                 field(field(b, "torchprobe"), "libtorch"), false);
  }

  void compare_stimuli() {
    // Records are paired by id; a repeated id pairs its k-th occurrences.
    std::map<std::string, std::vector<std::size_t>> in_candidate;
    for (std::size_t i = 0; i < candidate_.records.size(); ++i) {
      in_candidate[candidate_.records[i]["id"].get<std::string>()].push_back(i);
    }
    std::map<std::string, std::size_t> used;
    std::vector<bool> paired(candidate_.records.size(), false);
    for (const auto& a : baseline_.records) {
      const std::string id = a["id"].get<std::string>();
      auto& candidates = in_candidate[id];
      std::size_t k = used[id]++;
      if (k >= candidates.size()) {
        add(Difference::Kind::kMissingStimulus, id);
        continue;
      }
      paired[candidates[k]] = true;
      compare_record(id, a, candidate_.records[candidates[k]]);
    }
    for (std::size_t i = 0; i < candidate_.records.size(); ++i) {
      if (paired[i]) continue;
      add(Difference::Kind::kExtraStimulus, candidate_.records[i]["id"].get<std::string>());
    }
  }

  LayerSummary& layer(const std::string& name, bool in_baseline, bool in_candidate) {
    auto [it, inserted] = layer_index_.emplace(name, report_.layers.size());
    if (inserted) {
      LayerSummary summary;
      summary.layer = name;
      report_.layers.push_back(std::move(summary));
      seen_.emplace_back(false, false);
    }
    seen_[it->second].first |= in_baseline;
    seen_[it->second].second |= in_candidate;
    return report_.layers[it->second];
  }

  void compare_record(const std::string& id, const json& a, const json& b) {
    report_.stimuli_compared += 1;
    if (compare_stimulus_errors(id, a, b)) return;
    compare_record_facts(id, a, b);
    compare_layers(id, a["responses"], b["responses"]);
  }

  // Whether either side failed on the stimulus (an error record); a difference if only one did.
  bool compare_stimulus_errors(const std::string& id, const json& a, const json& b) {
    bool error_a = a.contains("error"), error_b = b.contains("error");
    if (!error_a && !error_b) return false;
    if (error_a != error_b) {
      add(Difference::Kind::kStimulusError, id, "", error_a ? a["error"] : json(nullptr),
          error_b ? b["error"] : json(nullptr));
    }
    return true;
  }

  // The record's facts besides the responses: its input shape and the layers not called.
  void compare_record_facts(const std::string& id, const json& a, const json& b) {
    json shape_a = field(a, "input_shape"), shape_b = field(b, "input_shape");
    if (!same_json(shape_a, shape_b)) {
      add(Difference::Kind::kInputShape, id, "", shape_a, shape_b);
    }
    json called_a = field(a, "not_called"), called_b = field(b, "not_called");
    std::set<std::string> not_called_a, not_called_b;
    if (called_a.is_array()) {
      for (const auto& v : called_a) not_called_a.insert(v.dump());
    }
    if (called_b.is_array()) {
      for (const auto& v : called_b) not_called_b.insert(v.dump());
    }
    if (not_called_a != not_called_b) {
      add(Difference::Kind::kNotCalled, id, "", called_a, called_b);
    }
  }

  // The responses layer by layer; a layer on one side only is a difference.
  void compare_layers(const std::string& id, const json& ra, const json& rb) {
    for (const auto& [name, response] : ra.items()) {
      LayerSummary& summary = layer(name, true, rb.contains(name));
      if (!rb.contains(name)) {
        add(Difference::Kind::kMissingLayer, id, name);
        continue;
      }
      compare_response(id, name, response, rb[name], summary);
    }
    for (const auto& [name, response] : rb.items()) {
      if (ra.contains(name)) continue;
      layer(name, false, true);
      add(Difference::Kind::kExtraLayer, id, name);
    }
  }

  // A structural field (shape, index) that must be equal for the values to be comparable.
  bool same_field(const std::string& id, const std::string& name, const json& a, const json& b,
                  const char* key, Difference::Kind kind) {
    json va = field(a, key), vb = field(b, key);
    if (same_json(va, vb)) return true;
    add(kind, id, name, va, vb);
    return false;
  }

  void compare_response(const std::string& id, const std::string& name, const json& a,
                        const json& b, LayerSummary& summary) {
    summary.responses += 1;
    report_.responses_compared += 1;
    const std::size_t before = report_.differences.size();
    if (same_field(id, name, a, b, "shape", Difference::Kind::kShape) &&
        same_field(id, name, a, b, "index", Difference::Kind::kIndex)) {
      compare_values(id, name, a["values"], b["values"], summary);
    }
    if (report_.differences.size() != before) {
      summary.responses_different += 1;
      report_.responses_different += 1;
    }
  }

  std::vector<double> flat(const json& values, std::vector<int64_t>& dims, const Results& from,
                           const std::string& id, const std::string& name) {
    std::vector<double> out;
    if (!flatten_values(values, out, dims)) {
      throw ResultsFormatError("cannot read results '" + from.path + "': stimulus '" + id +
                               "' response '" + name +
                               "': \"values\" is not a number or a rectangular list of numbers");
    }
    return out;
  }

  void compare_values(const std::string& id, const std::string& name, const json& values_a,
                      const json& values_b, LayerSummary& summary) {
    std::vector<int64_t> dims_a, dims_b;
    std::vector<double> a = flat(values_a, dims_a, baseline_, id, name);
    std::vector<double> b = flat(values_b, dims_b, candidate_, id, name);
    if (dims_a != dims_b) {
      add(Difference::Kind::kValueCount, id, name, dims_a, dims_b);
      return;
    }
    int64_t out_of_tolerance = 0;
    std::optional<ValueLocation> worst, max_abs, max_rel;
    auto location = [&](std::size_t i, double abs_error) {
      return value_location(id, name, dims_a, a[i], b[i], i, abs_error);
    };
    const double allowed = tolerance_.atol + tolerance_.scale_tol * largest_magnitude(a);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const bool nan_a = std::isnan(a[i]), nan_b = std::isnan(b[i]);
      if (nan_a && nan_b) continue;
      double error =
          nan_a || nan_b ? std::numeric_limits<double>::infinity() : std::fabs(b[i] - a[i]);
      bool outside = !(error <= allowed + tolerance_.rtol * std::fabs(a[i]));
      if (error == 0 && !outside) continue;  // neither a maximum nor out of tolerance
      ValueLocation at = location(i, error);
      keep_max_abs(max_abs, at);
      keep_max_rel(max_rel, at);
      if (outside) {
        out_of_tolerance += 1;
        keep_max_abs(worst, at);
      }
    }
    if (!max_abs && !a.empty()) max_abs = location(0, 0.0);  // all equal: error 0 at value 0
    tally_values(id, name, a.size(), out_of_tolerance, worst, max_abs, max_rel, summary);
  }

  static ValueLocation value_location(const std::string& id, const std::string& name,
                                      const std::vector<int64_t>& dims, double baseline,
                                      double candidate, std::size_t i, double abs_error) {
    ValueLocation at;
    at.stimulus = id;
    at.layer = name;
    at.index = int64_t(i);
    at.position = unravel(int64_t(i), dims);
    at.baseline = baseline;
    at.candidate = candidate;
    at.abs_error = abs_error;
    if (baseline != 0 && std::isfinite(baseline) && std::isfinite(abs_error)) {
      at.rel_error = abs_error / std::fabs(baseline);
    }
    return at;
  }

  // One response's value comparison into the layer's and the report's counts and maxima, and a
  // difference when values are out of tolerance.
  void tally_values(const std::string& id, const std::string& name, std::size_t values,
                    int64_t out_of_tolerance, const std::optional<ValueLocation>& worst,
                    const std::optional<ValueLocation>& max_abs,
                    const std::optional<ValueLocation>& max_rel, LayerSummary& summary) {
    summary.values += int64_t(values);
    summary.out_of_tolerance += out_of_tolerance;
    report_.values_compared += int64_t(values);
    report_.values_out_of_tolerance += out_of_tolerance;
    if (max_abs) {
      keep_max_abs(summary.max_abs, *max_abs);
      keep_max_abs(report_.max_abs, *max_abs);
    }
    if (max_rel) {
      keep_max_rel(summary.max_rel, *max_rel);
      keep_max_rel(report_.max_rel, *max_rel);
    }
    if (out_of_tolerance > 0) {
      Difference d;
      d.kind = Difference::Kind::kValues;
      d.stimulus = id;
      d.layer = name;
      d.values = int64_t(values);
      d.out_of_tolerance = out_of_tolerance;
      d.worst = worst;
      add(std::move(d));
    }
  }

  // "layer1.0.relu#1[0]:in" -> "layer1.0.relu": the module a response or request names.
  static std::string module_of(const std::string& name) {
    return name.substr(0, std::min(name.find('#'), std::min(name.find('['), name.find(':'))));
  }

  void finish_layers() {
    // A layer is missing (extra) when no paired record has it in the candidate (baseline).
    for (std::size_t i = 0; i < report_.layers.size(); ++i) {
      report_.layers[i].missing = seen_[i].first && !seen_[i].second;
      report_.layers[i].extra = seen_[i].second && !seen_[i].first;
    }
    // Records hold responses in name order; list them in the order the layers were requested.
    std::map<std::string, std::size_t> requested;
    json layers = field(baseline_.header, "layers");
    if (layers.is_array()) {
      for (const auto& layer : layers) {
        if (layer.is_string())
          requested.emplace(module_of(layer.get<std::string>()), requested.size());
      }
    }
    auto rank = [&](const LayerSummary& l) {
      auto found = requested.find(module_of(l.layer));
      return found == requested.end() ? requested.size() : found->second;
    };
    std::stable_sort(
        report_.layers.begin(), report_.layers.end(),
        [&](const LayerSummary& a, const LayerSummary& b) { return rank(a) < rank(b); });
  }

  const Results& baseline_;
  const Results& candidate_;
  Tolerance tolerance_;
  DiffReport report_;
  std::map<std::string, std::size_t> layer_index_;
  std::vector<std::pair<bool, bool>> seen_;  // per layer: in a baseline, in a candidate record
};

}  // namespace

std::string to_string(Difference::Kind kind) {
  switch (kind) {
    case Difference::Kind::kHeader:
      return "header";
    case Difference::Kind::kMissingStimulus:
      return "missing_stimulus";
    case Difference::Kind::kExtraStimulus:
      return "extra_stimulus";
    case Difference::Kind::kStimulusError:
      return "stimulus_error";
    case Difference::Kind::kInputShape:
      return "input_shape";
    case Difference::Kind::kNotCalled:
      return "not_called";
    case Difference::Kind::kMissingLayer:
      return "missing_layer";
    case Difference::Kind::kExtraLayer:
      return "extra_layer";
    case Difference::Kind::kShape:
      return "shape";
    case Difference::Kind::kIndex:
      return "index";
    case Difference::Kind::kValueCount:
      return "value_count";
    case Difference::Kind::kValues:
      return "values";
  }
  return "?";
}

std::string Difference::message() const {
  std::string where = "stimulus " + quoted(stimulus);
  if (!layer.empty()) where += " layer " + quoted(layer);
  const std::string both = ": " + json_text(baseline) + " in the baseline, " +
                           json_text(candidate) + " in the candidate";
  switch (kind) {
    case Kind::kHeader:
      return "header field " + quoted(layer) + " differs" + both;
    case Kind::kMissingStimulus:
      return where + ": missing in the candidate";
    case Kind::kExtraStimulus:
      return where + ": only in the candidate";
    case Kind::kStimulusError:
      return where + ": failed in the " + (baseline.is_null() ? "candidate" : "baseline") +
             " only: " + (baseline.is_null() ? candidate : baseline).dump();
    case Kind::kInputShape:
      return where + ": input shape differs" + both;
    case Kind::kNotCalled:
      return where + ": not_called differs" + both;
    case Kind::kMissingLayer:
      return where + ": missing in the candidate";
    case Kind::kExtraLayer:
      return where + ": only in the candidate";
    case Kind::kShape:
      return where + ": shape changed" + both;
    case Kind::kIndex:
      return where + ": readout position changed" + both;
    case Kind::kValueCount:
      return where + ": values have dimensions " + json_text(baseline) + " in the baseline, " +
             json_text(candidate) + " in the candidate";
    case Kind::kValues: {
      std::string out = where + ": " + std::to_string(out_of_tolerance) + " of " +
                        std::to_string(values) + " values out of tolerance";
      if (worst) {
        out += "; worst at " + position_text(*worst) + " (index " + std::to_string(worst->index) +
               "): baseline " + number_text(worst->baseline) + ", candidate " +
               number_text(worst->candidate) + ", abs error " + number_text(worst->abs_error);
        if (worst->rel_error) out += ", rel error " + number_text(*worst->rel_error);
      }
      return out;
    }
  }
  return where;
}

void require_tolerances(const Tolerance& tolerance) {
  require_tolerance("rtol", tolerance.rtol);
  require_tolerance("atol", tolerance.atol);
  require_tolerance("scale_tol", tolerance.scale_tol);
}

DiffReport diff_results(const Results& baseline, const Results& candidate,
                        const Tolerance& tolerance) {
  require_tolerances(tolerance);
  return Differ(baseline, candidate, tolerance).run();
}

}  // namespace torchprobe
