#include "torchprobe/errors.h"

#include <algorithm>

namespace torchprobe {

const std::vector<std::string>& setting_fields() {
  // The options structs' fields that library messages name (ProbeOptions, PreprocessOptions,
  // RunControl, Tolerance, ...), and the output write modes (WriteMode).
  static const std::vector<std::string> kFields = {
      "layers",        "batch_size", "mode",      "input_size", "size",  "preprocess", "mean",
      "std_dev",       "sweep",      "recursive", "resume",     "force", "output",     "shard",
      "stimulus_root", "rtol",       "atol",      "scale_tol",  "json",  "channels"};
  return kFields;
}

std::string render_settings(const std::string& text, const SettingNamer& name_of) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t open = text.find('{', start);
    std::size_t close = open == std::string::npos ? open : text.find('}', open);
    if (close == std::string::npos) break;
    const std::string field = text.substr(open + 1, close - open - 1);
    const auto& fields = setting_fields();
    const bool is_field = std::find(fields.begin(), fields.end(), field) != fields.end();
    out += text.substr(start, open - start);
    out += is_field ? name_of(field) : text.substr(open, close - open + 1);
    start = close + 1;
  }
  return out + text.substr(start);
}

std::string field_name(const std::string& field) { return "`" + field + "`"; }

std::string with_field_names(const std::string& text) { return render_settings(text, field_name); }

const char* describe(ExitCode code) {
  switch (code) {
    case ExitCode::kOk:
      return "success";
    case ExitCode::kDifferent:
      return "a comparison found a difference";
    case ExitCode::kUsage:
      return "bad command line or option value";
    case ExitCode::kModelMissing:
      return "model file not found";
    case ExitCode::kModelIsDirectory:
      return "model path is a directory";
    case ExitCode::kModelEmpty:
      return "model file is empty";
    case ExitCode::kModelNotArchive:
      return "model file is not a zip archive";
    case ExitCode::kModelNotTorchScript:
      return "zip archive without TorchScript code";
    case ExitCode::kModelPickle:
      return "torch.save() file (state_dict or eager module), not TorchScript";
    case ExitCode::kModelTruncated:
      return "model archive is truncated";
    case ExitCode::kModelFrozen:
      return "frozen model: submodules were removed";
    case ExitCode::kModelLoad:
      return "LibTorch could not load the model";
    case ExitCode::kModelNotRegularFile:
      return "model path is not a regular file";
    case ExitCode::kUnknownLayer:
      return "unknown layer name";
    case ExitCode::kLayerNotCapturable:
      return "layer output is not a tensor";
    case ExitCode::kReadout:
      return "readout does not fit the captured shape";
    case ExitCode::kStimulus:
      return "bad stimulus spec or stimulus file";
    case ExitCode::kForward:
      return "the model's forward failed on the input";
    case ExitCode::kOutput:
      return "output cannot be written";
    case ExitCode::kOutputExists:
      return "output exists (neither overwriting nor resuming was asked for)";
    case ExitCode::kBadResults:
      return "input is not a readable torchprobe output";
    case ExitCode::kInternal:
      return "internal error (a bug)";
    case ExitCode::kInterrupted:
      return "interrupted (SIGINT)";
    case ExitCode::kTerminated:
      return "terminated (SIGTERM)";
  }
  return "unknown";
}

}  // namespace torchprobe
