#include "torchprobe/results/check.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "torchprobe/detail/sha256.h"

namespace torchprobe {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void bad_header(const Results& golden, const std::string& why) {
  throw ResultsFormatError("cannot re-run the probe of golden file '" + golden.path + "': " + why);
}

// A header field of the expected JSON type, `fallback` when absent; ResultsFormatError otherwise.
template <typename T>
T header_value(const Results& golden, const json& object, const std::string& key, T fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::type_error&) {
    bad_header(golden, "its header field \"" + key + "\" is " + it->dump());
  }
}

std::vector<double> numbers(const json& value) {
  std::vector<double> out;
  if (!value.is_array()) return out;
  for (const auto& v : value) {
    if (v.is_number()) out.push_back(v.get<double>());
  }
  return out;
}

// Maps the recorded preprocessing onto PreprocessOptions (UsageError for values no run writes): the
// re-run feeds MODEL what the golden's model was fed, whatever MODEL's metadata says; the diff of
// the headers then catches anything the re-run applied differently.
PreprocessOptions preprocess_options(const json& recorded) {
  PreprocessOptions options;
  if (!recorded.is_object()) return options;  // older outputs: the model's defaults
  auto found = recorded.find("name");
  std::string name = found != recorded.end() && found->is_string() ? found->get<std::string>() : "";
  if (name == "none" || name == "imagenet") {
    options.preprocess = parse_normalization(name);
  } else {
    // "model" (its model's metadata), "custom" (mean/std given) or a name this version does not
    // know: the recorded numbers, so that MODEL is fed what the golden's model was fed whatever
    // MODEL's metadata holds (none, say: a golden then never asks for {preprocess} model, which
    // the user did not give). The headers' "name" differs then: a note, not a difference.
    options.mean = numbers(recorded.value("mean", json()));
    options.std_dev = numbers(recorded.value("std", json()));
    if (options.mean.empty() && options.std_dev.empty()) {
      options.preprocess = name == "model" ? Normalization::kModel : Normalization::kNone;
    }
  }
  auto size = recorded.find("size");
  if (size != recorded.end() && size->is_array() && size->size() == 2 &&
      (*size)[0].is_number_integer() && (*size)[1].is_number_integer()) {
    options.size = Size2{(*size)[0].get<int64_t>(), (*size)[1].get<int64_t>()};
    const std::string bad = size_bound_violation(*options.size);
    if (!bad.empty()) throw UsageError("size " + to_string(*options.size) + ", " + bad);
  }
  auto channels = recorded.find("channels");
  if (channels != recorded.end() && channels->is_number_integer()) {
    options.channels = channels->get<int64_t>();
    if (*options.channels != 1 && *options.channels != 3) {
      throw UsageError("channels " + std::to_string(*options.channels) + ", not 1 or 3");
    }
  }
  auto crop_pct = recorded.find("crop_pct");
  if (crop_pct != recorded.end() && crop_pct->is_number())
    options.crop_pct = crop_pct->get<double>();
  auto fit = recorded.find("fit");
  if (fit != recorded.end() && fit->is_string()) options.fit = parse_fit(fit->get<std::string>());
  return options;
}

std::string short_hash(const std::string& hash) { return hash.substr(0, 12); }

// The probe options the golden header records; fields older versions did not record take the
// values those versions used. Throws ResultsFormatError for a header a re-run cannot follow.
ProbeOptions recorded_options(const Results& golden) {
  const json& header = golden.header;
  ProbeOptions options;
  auto layers = header.find("layers");
  if (layers == header.end() || !layers->is_array() || layers->empty()) {
    bad_header(golden, "its header has no \"layers\" list");
  }
  for (const auto& layer : *layers) {
    if (!layer.is_string()) bad_header(golden, "\"layers\" holds a non-string");
    options.layers.push_back(layer.get<std::string>());
  }
  try {
    options.readout =
        Readout::parse(header_value(golden, header, "readout", std::string("center")));
    options.mode =
        header.contains("model") && header["model"].is_object()
            ? parse_mode(header_value(golden, header["model"], "mode", std::string("eval")))
            : Mode::kEval;
  } catch (const UsageError& e) {
    bad_header(golden, std::string("its header records ") + e.what());
  }
  options.truncate = header_value(golden, header, "truncated", true);
  // A golden run without cropping (or one whose crop check fell back) is replayed uncropped:
  // cropped values agree only within 1e-5 of the layer's magnitude, not bit for bit. A golden run
  // that did crop is replayed with cropping on, and plans its crop anew for MODEL.
  auto crop = header.find("crop");
  if (crop != header.end() && crop->is_object()) {
    options.crop = header_value(golden, *crop, "used", true);
  }
  // Files from before channels-last computing lack the key: they were computed contiguous.
  options.channels_last = header_value(golden, header, "channels_last", false);
  auto batch_size = header.find("batch_size");
  if (batch_size != header.end() && batch_size->is_number_integer() &&
      batch_size->get<int64_t>() > 0) {
    options.batch_size = batch_size->get<int64_t>();
  }
  try {
    options.preprocess = preprocess_options(header.value("preprocess", json()));
  } catch (const UsageError& e) {
    bad_header(golden, std::string("its header's \"preprocess\" records ") + e.what());
  }
  return options;
}

// Where the stimulus file a golden record names is now: an id that is not an absolute path is
// looked up in `stimulus_root` if given, else the working directory, else the golden file's.
fs::path stimulus_file_path(const std::string& id, const std::string& stimulus_root,
                            const fs::path& golden_dir) {
  fs::path path(id);
  std::error_code error;
  if (!path.is_absolute()) {
    if (!stimulus_root.empty()) {
      path = fs::path(stimulus_root) / id;
    } else if (!fs::exists(path, error) && fs::exists(golden_dir / id, error)) {
      path = golden_dir / id;
    }
  }
  return path;
}

// "a, b, c, d, e and 3 more": the first few items of a list for a message.
std::string first_items_text(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < 5; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > 5) out += " and " + std::to_string(items.size() - 5) + " more";
  return out;
}

// Refuses the check, naming every changed and missing stimulus file: a re-run on other
// stimuli could not tell a model regression from a stimulus change.
[[noreturn]] void throw_stimuli_changed(const Results& golden,
                                        const std::vector<std::string>& missing,
                                        const std::vector<std::string>& changed) {
  std::string message;
  if (!changed.empty()) {
    message = std::to_string(changed.size()) + " stimulus file" + (changed.size() == 1 ? "" : "s") +
              " changed since golden file '" + golden.path +
              "' was written: " + first_items_text(changed);
  }
  if (!missing.empty()) {
    message += (message.empty() ? "" : "; ") + std::to_string(missing.size()) + " stimulus file" +
               (missing.size() == 1 ? "" : "s") + " of golden file '" + golden.path +
               "' not found: " + first_items_text(missing);
  }
  message += "; the model was not checked (a changed stimulus is not a model regression)";
  throw StimulusChangedError(
      message, !missing.empty()
                   ? "relative ids are looked up in {stimulus_root} DIR, else the working "
                     "directory, else the golden file's directory"
                   : "restore the stimulus files, or regenerate the golden file with "
                     "'torchprobe run' if the change is intended");
}

}  // namespace

RecordedProbe recorded_probe(const Results& golden, const std::string& stimulus_root) {
  RecordedProbe probe;
  probe.options = recorded_options(golden);

  const fs::path golden_dir = fs::path(golden.path).parent_path();
  std::vector<std::string> missing, changed;
  for (const auto& record : golden.records) {
    const std::string id = record["id"].get<std::string>();
    if (record.contains("error")) {
      probe.skipped.push_back(id);
      continue;
    }
    StimulusSpec spec = StimulusSpec::parse(id);
    if (spec.is_file()) {
      const fs::path path = stimulus_file_path(id, stimulus_root, golden_dir);
      std::error_code error;
      if (!fs::is_regular_file(path, error)) {
        missing.push_back("'" + id + "'");
        continue;
      }
      spec.path = path.string();
      auto recorded = record.find("sha256");
      if (recorded != record.end() && recorded->is_string()) {
        const std::optional<std::string> now = sha256_file(spec.path);
        if (!now) {
          throw StimulusError("cannot read stimulus '" + spec.path + "' of golden '" + golden.path +
                                  "': " + std::strerror(errno),
                              "check the file's permissions");
        }
        if (*now != recorded->get<std::string>()) {
          changed.push_back("'" + id + "' (sha256 " + short_hash(recorded->get<std::string>()) +
                            "... recorded, " + short_hash(*now) + "... now)");
        }
      }
    }
    probe.stimuli.push_back(spec);
  }
  if (!missing.empty() || !changed.empty()) throw_stimuli_changed(golden, missing, changed);
  return probe;
}

namespace {

class Collector : public ResultSink {
 public:
  Collector(Results& results, ResultSink* also) : results_(results), also_(also) {}
  void header(const json& header) override {
    results_.header = header;
    if (also_) also_->header(header);
  }
  void record(const json& record) override {
    results_.records.push_back(record);
    if (also_) also_->record(record);
  }
  void finish() override {
    if (also_) also_->finish();
  }

 private:
  Results& results_;
  ResultSink* also_;
};

}  // namespace

CheckResult check_model(Model& model, const Results& golden, const CheckOptions& options,
                        WarningHandler warn, ResultSink* sink) {
  require_tolerances(options.tolerance);
  RecordedProbe recorded = recorded_probe(golden, options.stimulus_root);
  if (options.batch_size > 0) recorded.options.batch_size = options.batch_size;
  CheckResult result;
  result.skipped = recorded.skipped;
  result.rerun.path = model.path();
  Probe probe(model, recorded.options, warn);
  Collector collector(result.rerun, sink);
  probe.run(recorded.stimuli, collector);

  // Error records were not re-run: compare only what was.
  Results baseline = golden;
  baseline.records.clear();
  for (const auto& record : golden.records) {
    if (!record.contains("error")) baseline.records.push_back(record);
  }
  result.report = diff_results(baseline, result.rerun, options.tolerance);
  result.report.baseline.stimuli = int64_t(golden.records.size());
  result.report.candidate.format = "re-run";
  return result;
}

}  // namespace torchprobe
