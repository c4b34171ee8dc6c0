#pragma once
// A TorchScript model loaded for probing, with its torchprobe metadata and module tree.
//
//   auto model = torchprobe::Model::load("googlenet.pt");   // throws ModelLoadError
//   model.set_mode(torchprobe::Mode::kEval);
//   for (const auto& m : model.modules()) std::cout << m.name << " " << m.type << "\n";
#include <torch/script.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace torchprobe {

// How the module is put before probing. kAsSaved keeps each submodule's saved flag.
enum class Mode { kAsSaved, kEval, kTrain };
Mode parse_mode(const std::string& text);  // throws UsageError
std::string to_string(Mode mode);

// One entry of Python's named_modules(): the first name under which a module object is reachable.
struct ModuleEntry {
  std::string name;            // dotted path, e.g. "inception3a.branch2.1"
  std::string type;            // class name, e.g. "Conv2d"
  std::string qualified_type;  // e.g. "torch.nn.modules.conv.Conv2d" (TorchScript mangling removed)
  torch::jit::Module module;
};

class Model {
 public:
  // Loads a TorchScript archive. Throws ModelLoadError with a distinct ExitCode for each way a
  // file can fail to be a probeable TorchScript model (missing, directory, empty, not a zip,
  // torch.save pickle, truncated, frozen, ...).
  static Model load(const std::string& path);

  torch::jit::Module& module() { return module_; }
  const torch::jit::Module& module() const { return module_; }
  const std::string& path() const { return path_; }
  const std::string& sha256() const { return sha256_; }
  // "script" or "trace": from the metadata when present, else inferred from the graph.
  const std::string& kind() const { return kind_; }
  // The root module's training flag as saved in the file.
  bool saved_training() const { return saved_training_; }
  // Names of submodules whose saved training flag differs from the root's.
  const std::vector<std::string>& mixed_training() const { return mixed_training_; }
  // The embedded torchprobe.json (see scripts/export_model.py), or null.
  const nlohmann::json& metadata() const { return metadata_; }
  // Channels, height, width of the model's expected input, from the metadata when present.
  std::optional<std::vector<int64_t>> input_size() const;

  // Submodules in named_modules() order, without the root, each object once.
  const std::vector<ModuleEntry>& modules() const { return modules_; }
  // Throws UnknownLayerError (with close matches and a hint) when `name` is not a submodule.
  const ModuleEntry& find(const std::string& name) const;
  std::vector<std::string> closest_names(const std::string& name, std::size_t count = 3) const;

  // Sets the training flag of every module (kEval/kTrain) or restores the saved flags (kAsSaved).
  void set_mode(Mode mode);
  bool training() const { return module_.is_training(); }

  // Stores the weight of every Conv2d in channels-last order (on) or the default contiguous
  // order (off); the values stay the same. With channels-last weights, LibTorch's CPU
  // convolutions compute in that layout, and so do the ops after them: 1.3-2x faster on the
  // torchvision models here. Results change in the last bits (another summation order).
  void set_channels_last(bool on);

 private:
  Model() = default;
  std::string path_;
  std::string sha256_;
  std::string kind_;
  bool saved_training_ = false;
  std::vector<std::string> mixed_training_;
  std::vector<std::pair<torch::jit::Module, bool>> saved_flags_;
  nlohmann::json metadata_;
  torch::jit::Module module_;
  std::vector<ModuleEntry> modules_;
};

}  // namespace torchprobe
