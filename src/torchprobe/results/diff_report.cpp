// The reports of a comparison (diff.h): the text table people read and the JSON document
// machines read. The comparison itself is diff.cpp.
#include <algorithm>
#include <sstream>

#include "torchprobe/detail/diff_text.h"
#include "torchprobe/results/diff.h"

namespace torchprobe {
namespace {

using detail::location_json;
using detail::number_json;
using detail::number_text;
using detail::position_text;
using detail::tolerance_rule;
using nlohmann::json;

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

std::string pad_left(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::string where_text(const std::optional<ValueLocation>& at) {
  if (!at || at->abs_error == 0) return "-";
  return at->stimulus + " " + position_text(*at);
}

// JSON of one layer's line of the report.
json layer_json(const LayerSummary& l) {
  return {{"layer", l.layer},
          {"responses", l.responses},
          {"responses_different", l.responses_different},
          {"values", l.values},
          {"values_out_of_tolerance", l.out_of_tolerance},
          {"missing", l.missing},
          {"extra", l.extra},
          {"max_abs_error", location_json(l.max_abs)},
          {"max_rel_error", location_json(l.max_rel)}};
}

// JSON of one difference: its kind and message plus the fields that kind has ("field" for a
// header field, where other kinds name a layer).
json difference_json(const Difference& d) {
  json item = {{"kind", to_string(d.kind)}, {"message", d.message()}};
  item["stimulus"] = d.stimulus.empty() ? json(nullptr) : json(d.stimulus);
  if (d.kind == Difference::Kind::kHeader) {
    item["field"] = d.layer;
  } else {
    item["layer"] = d.layer.empty() ? json(nullptr) : json(d.layer);
  }
  switch (d.kind) {
    case Difference::Kind::kValues:
      item["values"] = d.values;
      item["out_of_tolerance"] = d.out_of_tolerance;
      item["worst"] = location_json(d.worst);
      break;
    case Difference::Kind::kMissingStimulus:
    case Difference::Kind::kExtraStimulus:
    case Difference::Kind::kMissingLayer:
    case Difference::Kind::kExtraLayer:
      break;
    default:
      item["baseline"] = d.baseline;
      item["candidate"] = d.candidate;
  }
  return item;
}

// The per-layer table: counts, then the largest errors and where they are, or why a layer has
// none to show (missing or extra).
void write_layer_table(std::ostream& out, const std::vector<LayerSummary>& layers) {
  std::size_t name_width = 5, where_width = 5, rel_where_width = 5;
  for (const auto& l : layers) {
    name_width = std::max(name_width, l.layer.size());
    where_width = std::max(where_width, where_text(l.max_abs).size());
    rel_where_width = std::max(rel_where_width, where_text(l.max_rel).size());
  }
  out << "\n"
      << pad("layer", name_width) << "  stimuli  differ  values  out of tol  "
      << pad_left("max abs err", 11) << "  " << pad("where", where_width) << "  "
      << pad_left("max rel err", 11) << "  where\n";
  for (const auto& l : layers) {
    std::string status = l.missing ? "missing" : l.extra ? "extra" : "";
    out << pad(l.layer, name_width) << "  " << pad_left(std::to_string(l.responses), 7) << "  "
        << pad_left(std::to_string(l.responses_different), 6) << "  "
        << pad_left(std::to_string(l.values), 6) << "  "
        << pad_left(std::to_string(l.out_of_tolerance), 10) << "  ";
    if (!status.empty()) {
      out << pad_left(status, 11) << "  (in the " << (l.missing ? "baseline" : "candidate")
          << " only)\n";
      continue;
    }
    out << pad_left(l.max_abs ? number_text(l.max_abs->abs_error) : "-", 11) << "  "
        << pad(where_text(l.max_abs), where_width) << "  "
        << pad_left(l.max_rel ? number_text(*l.max_rel->rel_error) : "-", 11) << "  "
        << where_text(l.max_rel) << "\n";
  }
}

// The first `max_differences` differences; the rest are counted, and the JSON report has them all.
void write_differences(std::ostream& out, const std::vector<Difference>& differences,
                       std::size_t max_differences, const SettingNamer& name_of) {
  out << "\ndifferences (" << differences.size() << "):\n";
  std::size_t shown = std::min(max_differences, differences.size());
  for (std::size_t i = 0; i < shown; ++i) {
    out << "  " << differences[i].message() << "\n";
  }
  if (shown < differences.size()) {
    out << "  ... and " << differences.size() - shown
        << render_settings(" more (use {json} for the full list)\n", name_of);
  }
}

// The verdict line: what agreed, or how much differs.
void write_result_line(std::ostream& out, const DiffReport& report) {
  if (report.same()) {
    out << "result: same: " << report.responses_compared << " responses of "
        << report.stimuli_compared << " stimuli within tolerance (max abs error "
        << number_text(report.max_abs ? report.max_abs->abs_error : 0.0) << ")\n";
  } else {
    out << "result: DIFFERENT: " << report.differences.size() << " difference"
        << (report.differences.size() == 1 ? "" : "s") << "; " << report.responses_different
        << " of " << report.responses_compared << " responses differ, "
        << report.values_out_of_tolerance << " of " << report.values_compared
        << " values out of tolerance\n";
  }
}

}  // namespace

nlohmann::json DiffReport::to_json() const {
  auto side = [](const Side& s) {
    return json{{"path", s.path}, {"format", s.format}, {"stimuli", s.stimuli}};
  };
  json out;
  out["result"] = same() ? "same" : "different";
  out["baseline"] = side(baseline);
  out["candidate"] = side(candidate);
  out["tolerance"] = {{"rtol", tolerance.rtol},
                      {"atol", tolerance.atol},
                      {"scale_tol", tolerance.scale_tol},
                      {"rule", tolerance_rule(tolerance, "atol", "rtol", "scale_tol")}};
  out["summary"] = {{"differences", int64_t(differences.size())},
                    {"stimuli_compared", stimuli_compared},
                    {"responses_compared", responses_compared},
                    {"responses_different", responses_different},
                    {"values_compared", values_compared},
                    {"values_out_of_tolerance", values_out_of_tolerance},
                    {"max_abs_error", location_json(max_abs)},
                    {"max_rel_error", location_json(max_rel)}};
  out["notes"] = notes;
  out["layers"] = json::array();
  for (const auto& l : layers) out["layers"].push_back(layer_json(l));
  out["differences"] = json::array();
  for (const auto& d : differences) out["differences"].push_back(difference_json(d));
  return out;
}

std::string format_diff_table(const DiffReport& report, std::size_t max_differences,
                              const SettingNamer& name_of) {
  std::ostringstream out;
  out << "baseline:  " << report.baseline.path << " (" << report.baseline.format << ", "
      << report.baseline.stimuli << " stimuli)\n"
      << "candidate: " << report.candidate.path << " (" << report.candidate.format << ", "
      << report.candidate.stimuli << " stimuli)\n"
      << "tolerance: "
      << tolerance_rule(report.tolerance, number_text(report.tolerance.atol),
                        number_text(report.tolerance.rtol), number_text(report.tolerance.scale_tol))
      << "\n";
  for (const auto& note : report.notes) out << "note: " << note << "\n";
  if (!report.layers.empty()) write_layer_table(out, report.layers);
  if (!report.differences.empty()) {
    write_differences(out, report.differences, max_differences, name_of);
  }
  out << "\n";
  write_result_line(out, report);
  return out.str();
}

}  // namespace torchprobe
