#include "torchprobe/run/resume.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"
#include "torchprobe/results/jsonl_reader.h"

namespace torchprobe {
namespace {

std::string short_text(const nlohmann::json& value) {
  if (value.is_null()) return "absent";
  std::string text = dump_json(value, /*pretty=*/false);
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  return text;
}

std::string difference(const nlohmann::json& there, const nlohmann::json& here,
                       const std::string& prefix, const std::vector<std::string>& ignored) {
  if (std::find(ignored.begin(), ignored.end(), prefix) != ignored.end()) return "";
  if (there.is_object() && here.is_object()) {
    std::vector<std::string> keys;
    for (const auto& item : there.items()) keys.push_back(item.key());
    for (const auto& item : here.items()) {
      if (!there.contains(item.key())) keys.push_back(item.key());
    }
    std::sort(keys.begin(), keys.end());
    // "crop" and "crop_plans" are derived from the model, layers, readout and preprocessing:
    // report those first.
    std::stable_partition(keys.begin(), keys.end(),
                          [](const std::string& k) { return k != "crop" && k != "crop_plans"; });
    for (const auto& key : keys) {
      const nlohmann::json none;
      auto a = there.find(key);
      auto b = here.find(key);
      std::string found = difference(a == there.end() ? none : *a, b == here.end() ? none : *b,
                                     prefix.empty() ? key : prefix + "." + key, ignored);
      if (!found.empty()) return found;
    }
    return "";
  }
  if (there == here) return "";
  return "'" + prefix + "' is " + short_text(there) + " there and " + short_text(here) + " here";
}

const char* const kResumeHint =
    "rerun with the stimuli and options that wrote it, or give {force} to start it again";

// Checks that `record`, the reader's current line, is this run's stimulus number `done` in
// `order`: only a file holding this run's first stimuli, in order, can be continued.
void check_resumed_record(const std::string& path, const JsonlReader& in,
                          const nlohmann::json& record, int64_t done,
                          const std::vector<StimulusSpec>& stimuli,
                          const std::vector<int64_t>& order) {
  const std::string where = "line " + std::to_string(in.line_number());
  if (done >= int64_t(order.size())) {
    throw ResultsFormatError("cannot resume '" + path + "': it holds more records than the " +
                                 std::to_string(order.size()) + " stimuli of this run",
                             kResumeHint);
  }
  const int64_t index = order[std::size_t(done)];
  const std::string& id = stimuli[std::size_t(index)].id;
  auto index_field = record.find("index");
  auto id_field = record.find("id");
  if (index_field == record.end() || !index_field->is_number_integer() ||
      id_field == record.end() || !id_field->is_string()) {
    throw ResultsFormatError("cannot resume '" + path + "': " + where +
                                 " is not a stimulus record with \"index\" and \"id\"",
                             kResumeHint);
  }
  if (index_field->get<int64_t>() != index || id_field->get<std::string>() != id) {
    throw ResultsFormatError("cannot resume '" + path + "': " + where + " is stimulus " +
                                 std::to_string(index_field->get<int64_t>()) + " '" +
                                 id_field->get<std::string>() + "', but this run's next is " +
                                 std::to_string(index) + " '" + id + "'",
                             kResumeHint);
  }
}

// Reads the existing file into `point` (header, complete records, torn last line), checking it
// was written by this run. Returns the length of its complete lines: what to keep of it.
uint64_t read_resume_point(const std::string& path, const nlohmann::json& header,
                           const std::vector<StimulusSpec>& stimuli,
                           const std::vector<int64_t>& order, ResumePoint& point) {
  JsonlReader in(path);
  std::string line;
  if (in.next_line(line)) {
    nlohmann::json there = in.parse_header(line);
    std::string diff = header_difference(there, header, {"model.path"});
    if (!diff.empty()) {
      throw ResultsFormatError(
          "cannot resume '" + path + "': it was written by a different run: " + diff, kResumeHint);
    }
    point.fresh = false;
    while (in.next_line(line)) {
      nlohmann::json record = in.parse_object(line);
      check_resumed_record(path, in, record, point.done, stimuli, order);
      if (record.contains("error")) point.bad += 1;
      point.done += 1;
    }
  }
  const uint64_t keep = in.complete_bytes();
  if (in.torn()) {
    std::error_code error;
    point.cut_bytes = std::filesystem::file_size(path, error) - keep;
  }
  return keep;
}

}  // namespace

std::string header_difference(const nlohmann::json& there, const nlohmann::json& here,
                              const std::vector<std::string>& ignored) {
  return difference(there, here, "", ignored);
}

ResumePoint prepare_resume(const std::string& path, const nlohmann::json& header,
                           const std::vector<StimulusSpec>& stimuli,
                           const std::vector<int64_t>& order) {
  ResumePoint point;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return point;

  uint64_t keep = read_resume_point(path, header, stimuli, order, point);
  if (point.cut_bytes > 0 || point.fresh) {
    // Cut the torn line (or a torn header: then everything) so that appending continues cleanly.
    if (point.fresh) keep = 0;
    if (::truncate(path.c_str(), off_t(keep)) != 0) {
      throw OutputError(ExitCode::kOutput,
                        "cannot resume '" + path +
                            "': cutting its torn last line failed: " + std::strerror(errno));
    }
  }
  return point;
}

}  // namespace torchprobe
