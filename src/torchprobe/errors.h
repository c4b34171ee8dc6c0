#pragma once
// Error types thrown by torchprobe::core, each carrying its documented exit code.
//
//   try { auto model = torchprobe::Model::load("net.pt"); }
//   catch (const torchprobe::Error& e) { std::cerr << e.what() << "\n"; return int(e.code()); }
//
// The library never prints or exits; the CLI maps these to exit codes (the README's table lists
// the same values). Codes stay out of 100-127, which CLI11 uses.
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace torchprobe {

enum class ExitCode : int {
  kOk = 0,
  kDifferent = 1,             // diff/check/verify/bn-check found a difference
  kUsage = 2,                 // bad command line or option value
  kModelMissing = 10,         // model path does not exist
  kModelIsDirectory = 11,     // model path is a directory
  kModelEmpty = 12,           // model file has zero bytes
  kModelNotArchive = 13,      // not a zip archive at all (random bytes, text, ...)
  kModelNotTorchScript = 14,  // a zip archive without TorchScript code
  kModelPickle = 15,          // a torch.save() file (state_dict or eager module), not TorchScript
  kModelTruncated = 16,       // a zip archive cut short (no central directory)
  kModelFrozen = 17,          // frozen / optimized-for-inference: submodules are gone
  kModelLoad = 18,            // LibTorch refused the model otherwise, or its zip archive is damaged
  kModelNotRegularFile = 19,  // a device, FIFO or socket: not a file that can be read twice
  kUnknownLayer = 20,         // a requested layer name is not a submodule
  kLayerNotCapturable = 21,   // the layer's output is not a tensor (or tuple of tensors)
  kReadout = 22,              // readout does not fit the captured shape
  kStimulus = 30,             // a stimulus spec is malformed or a stimulus file cannot be used
  kForward = 40,              // the model's forward failed on the given input
  kOutput = 50,               // the output file cannot be written
  kOutputExists = 51,  // the output exists, and neither overwriting nor resuming was asked for
  kBadResults = 60,    // an input to diff/merge/check/resume is not a torchprobe output
  kInternal = 70,      // a bug: please report it
  kInterrupted = 130,  // SIGINT
  kTerminated = 143,   // SIGTERM
};

// Library messages (errors, hints, warnings) name a setting the user chooses by the field of the
// options struct that holds it, in braces: "{batch_size}", "{mode}", "{resume}". Rendered for a
// library user, a field shows as `batch_size`; a front end with its own names for the settings
// (the CLI: its flags) renders the same text with its namer. Text without braces stays as it is.
// Only the fields setting_fields() lists are settings: other braces (a file name's) stay as given.
using SettingNamer = std::function<std::string(const std::string& field)>;
std::string render_settings(const std::string& text, const SettingNamer& name_of);
const std::vector<std::string>& setting_fields();
// A setting named by its field, for library users: "`resume`".
std::string field_name(const std::string& field);
// render_settings() with field_name(): "give `resume` to continue it".
std::string with_field_names(const std::string& text);

// Base of every error torchprobe::core throws. what() is the one-line message
// ("<what failed> '<value>': <why>"), hint() an optional suggestion of what to do next, both with
// settings named by their fields; message_template() and hint_template() keep the braces.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message, std::string hint = "")
      : std::runtime_error(with_field_names(message)),
        code_(code),
        message_(message),
        hint_(std::move(hint)) {}
  ExitCode code() const { return code_; }
  std::string hint() const { return with_field_names(hint_); }
  const std::string& message_template() const { return message_; }
  const std::string& hint_template() const { return hint_; }

 private:
  ExitCode code_;
  std::string message_;
  std::string hint_;
};

class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message, std::string hint = "")
      : Error(ExitCode::kUsage, message, std::move(hint)) {}
};

class ModelLoadError : public Error {
 public:
  using Error::Error;
};

class UnknownLayerError : public Error {
 public:
  UnknownLayerError(const std::string& message, std::string hint)
      : Error(ExitCode::kUnknownLayer, message, std::move(hint)) {}
};

class CaptureError : public Error {
 public:
  using Error::Error;
};

class ReadoutError : public Error {
 public:
  explicit ReadoutError(const std::string& message) : Error(ExitCode::kReadout, message) {}
};

class StimulusError : public Error {
 public:
  explicit StimulusError(const std::string& message, std::string hint = "")
      : Error(ExitCode::kStimulus, message, std::move(hint)) {}
};

class ForwardError : public Error {
 public:
  explicit ForwardError(const std::string& message, std::string hint = "")
      : Error(ExitCode::kForward, message, std::move(hint)) {}
};

class OutputError : public Error {
 public:
  using Error::Error;
};

class ResultsFormatError : public Error {
 public:
  explicit ResultsFormatError(const std::string& message, std::string hint = "")
      : Error(ExitCode::kBadResults, message, std::move(hint)) {}
};

// Short description of an exit code.
const char* describe(ExitCode code);

}  // namespace torchprobe
