#include "torchprobe/model/model.h"

#include <algorithm>
#include <caffe2/serialize/inline_container.h>
#include <cstring>
#include <fstream>
#include <future>
#include <sys/stat.h>
#include <unordered_set>

#include "torchprobe/detail/closest_names.h"
#include "torchprobe/detail/json_depth.h"
#include "torchprobe/detail/sha256.h"
#include "torchprobe/detail/zip_check.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/module_paths.h"
#include "torchprobe/numbers.h"

namespace torchprobe {
namespace {

constexpr const char* kMetadataFile = "torchprobe.json";
constexpr const char* kExportHint =
    "export with scripts/export_model.py, or torch.jit.save(torch.jit.script(model.eval()), path)";

[[noreturn]] void fail(ExitCode code, const std::string& path, const std::string& why,
                       const std::string& hint = kExportHint) {
  throw ModelLoadError(code, "cannot load model '" + path + "': " + why, hint);
}

std::string read_prefix(const std::string& path, std::size_t size) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  in.read(bytes.data(), std::streamsize(size));
  bytes.resize(std::size_t(in.gcount()));
  return bytes;
}

// A zip archive ends with an "end of central directory" record within its last 64 KiB + 22 bytes.
bool has_zip_end_record(const std::string& path, std::size_t file_size) {
  std::size_t window = std::min<std::size_t>(file_size, 65536 + 22);
  std::ifstream in(path, std::ios::binary);
  in.seekg(std::streamoff(file_size - window));
  std::string tail(window, '\0');
  in.read(tail.data(), std::streamsize(window));
  return tail.find(std::string("PK\x05\x06", 4)) != std::string::npos;
}

// The archive's records, as LibTorch's reader lists them. Its zip directory is intact (checked
// before), so the reader fails only on a zip of some other layout.
std::vector<std::string> archive_records(const std::string& path) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    return reader.getAllRecords();
  } catch (const c10::Error&) {
    fail(ExitCode::kModelNotTorchScript, path,
         "a zip archive without TorchScript code (not laid out as a PyTorch archive)");
  }
}

// Rejects a zip archive that is cut short, damaged, or not TorchScript (a torch.save() file,
// another zip).
void check_zip(const std::string& path, std::size_t file_size) {
  if (!has_zip_end_record(path, file_size)) {
    fail(ExitCode::kModelTruncated, path,
         "the archive is truncated (its zip directory is missing); was the copy interrupted?",
         "copy or export the model again");
  }
  // NOTE: before LibTorch reads it: its reader allocates the sizes the directory declares and
  // checks no CRC-32 (detail/zip_check.h).
  const std::string damage = zip_archive_problem(path, file_size);
  if (!damage.empty()) {
    fail(ExitCode::kModelLoad, path, "the archive is damaged: " + damage,
         "copy or export the model again");
  }
  bool has_code = false, has_data = false;
  for (const auto& record : archive_records(path)) {
    if (record.rfind("code/", 0) == 0) has_code = true;
    if (record == "data.pkl") has_data = true;
  }
  if (!has_code && has_data) {
    fail(ExitCode::kModelPickle, path,
         "a torch.save() file (a state_dict or an eager module), not TorchScript");
  }
  if (!has_code) {
    fail(ExitCode::kModelNotTorchScript, path, "a zip archive without TorchScript code");
  }
}

// Rejects, with a specific exit code, every file that is not a TorchScript archive, before
// LibTorch's own loader turns them into a generic c10::Error.
void check_archive(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    fail(ExitCode::kModelMissing, path, "no such file", "check the path");
  }
  if (S_ISDIR(info.st_mode)) {
    fail(ExitCode::kModelIsDirectory, path, "is a directory, expected a TorchScript .pt file",
         "give the path of the .pt file inside it");
  }
  if (!S_ISREG(info.st_mode)) {
    fail(ExitCode::kModelNotRegularFile, path,
         "is not a regular file (a device, FIFO or socket); a model must be a .pt file",
         "save the model to a file and give its path");
  }
  if (info.st_size == 0) fail(ExitCode::kModelEmpty, path, "the file is empty (0 bytes)");
  std::string magic = read_prefix(path, 4);
  if (!magic.empty() && uint8_t(magic[0]) == 0x80) {
    fail(ExitCode::kModelPickle, path,
         "a legacy torch.save() pickle (a state_dict or an eager module), not TorchScript");
  }
  if (magic != std::string("PK\x03\x04", 4)) {
    fail(ExitCode::kModelNotArchive, path, "not a TorchScript archive (not a zip file)");
  }
  check_zip(path, std::size_t(info.st_size));
}

bool graph_has_control_flow(torch::jit::Block* block) {
  for (torch::jit::Node* node : block->nodes()) {
    if (node->kind() == c10::prim::If || node->kind() == c10::prim::Loop ||
        node->kind() == c10::prim::RaiseException) {
      return true;
    }
    for (torch::jit::Block* inner : node->blocks()) {
      if (graph_has_control_flow(inner)) return true;
    }
  }
  return false;
}

// Traced modules have no control flow and call repeated modules through forward1, forward2...
std::string infer_kind(const torch::jit::Module& module) {
  for (const auto& sub : module.modules()) {
    for (const auto& method : sub.get_methods()) {
      auto& fn = torch::jit::toGraphFunction(method.function());
      if (graph_has_control_flow(fn.graph()->block())) return "script";
    }
  }
  return "trace";
}

std::string last_component(const std::string& dotted) {
  auto pos = dotted.rfind('.');
  return pos == std::string::npos ? dotted : dotted.substr(pos + 1);
}

}  // namespace

Mode parse_mode(const std::string& text) {
  if (text == "eval") return Mode::kEval;
  if (text == "train") return Mode::kTrain;
  if (text == "as-saved") return Mode::kAsSaved;
  throw UsageError("unknown mode '" + text + "': expected eval, train or as-saved");
}

std::string to_string(Mode mode) {
  switch (mode) {
    case Mode::kEval:
      return "eval";
    case Mode::kTrain:
      return "train";
    case Mode::kAsSaved:
      return "as-saved";
  }
  return "?";
}

namespace {

// A metadata input_size beyond numbers.h's bounds is refused when the model is loaded, before
// anything allocates an input of that size.
void check_metadata_input_size(const Model& model) {
  const auto size = model.input_size();
  if (!size) return;
  std::string too_large = input_size_violation((*size)[1], (*size)[2]);
  if (too_large.empty() && (*size)[0] > 4096) too_large = "too large: more than 4096 channels";
  if (!too_large.empty()) {
    fail(ExitCode::kModelLoad, model.path(),
         "its torchprobe.json gives an input_size that is " + too_large);
  }
}

}  // namespace

Model Model::load(const std::string& path) {
  check_archive(path);
  Model model;
  model.path_ = path;
  torch::jit::ExtraFilesMap extra{{kMetadataFile, ""}};
  // Hashing a large model file takes about as long as loading it: do both at once.
  std::future<std::optional<std::string>> digest =
      std::async(std::launch::async, [path] { return sha256_file(path); });
  try {
    model.module_ = torch::jit::load(path, c10::nullopt, extra);
  } catch (const c10::Error& e) {
    fail(ExitCode::kModelLoad, path, e.what_without_backtrace());
  } catch (const std::exception& e) {
    fail(ExitCode::kModelLoad, path, e.what());
  }
  std::optional<std::string> sha256 = digest.get();
  if (!sha256) fail(ExitCode::kModelLoad, path, "cannot read the file to hash it");
  model.sha256_ = *sha256;
  const std::string& meta_text = extra[kMetadataFile];
  if (!meta_text.empty()) {
    model.metadata_ = nlohmann::json::parse(meta_text, nullptr, /*allow_exceptions=*/false);
    if (model.metadata_.is_discarded() || !model.metadata_.is_object()) {
      fail(ExitCode::kModelLoad, path, "its embedded torchprobe.json is not a JSON object");
    }
    if (!json_depth_within(meta_text, kMaxJsonDepth)) {
      fail(ExitCode::kModelLoad, path,
           "its embedded torchprobe.json nests more than " + std::to_string(kMaxJsonDepth) +
               " levels deep");
    }
    check_metadata_input_size(model);
  }

  std::unordered_set<const c10::ivalue::Object*> seen{model.module_._ivalue().get()};
  for (const auto& item : model.module_.named_modules()) {
    if (item.name.empty() || !seen.insert(item.value._ivalue().get()).second) continue;
    std::string qualified = readable_type_name(item.value.type());
    model.modules_.push_back({item.name, last_component(qualified), qualified, item.value});
  }
  if (model.modules_.empty() && model.module_.parameters().size() == 0) {
    fail(ExitCode::kModelFrozen, path,
         "the model has no submodules and no parameters: it looks frozen (torch.jit.freeze or "
         "optimize_for_inference fold submodules into constants), so there are no layers to probe",
         "save the model without freezing: torch.jit.save(torch.jit.script(model.eval()), path)");
  }

  model.saved_training_ = model.module_.is_training();
  model.saved_flags_.emplace_back(model.module_, model.module_.is_training());
  for (const auto& entry : model.modules_) {
    model.saved_flags_.emplace_back(entry.module, entry.module.is_training());
    if (entry.module.is_training() != model.saved_training_) {
      model.mixed_training_.push_back(entry.name);
    }
  }
  if (model.metadata_.is_object() && model.metadata_.contains("export_mode") &&
      model.metadata_["export_mode"].is_string()) {
    model.kind_ = model.metadata_["export_mode"].get<std::string>();
  } else {
    model.kind_ = infer_kind(model.module_);
  }
  return model;
}

std::optional<std::vector<int64_t>> Model::input_size() const {
  if (!metadata_.is_object() || !metadata_.contains("input_size")) return std::nullopt;
  const auto& size = metadata_["input_size"];
  if (!size.is_array() || size.size() != 3) return std::nullopt;
  std::vector<int64_t> out;
  for (const auto& v : size) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0) return std::nullopt;
    out.push_back(v.get<int64_t>());
  }
  return out;
}

const ModuleEntry& Model::find(const std::string& name) const {
  for (const auto& entry : modules_) {
    if (entry.name == name) return entry;
  }
  std::string message = "unknown layer '" + name + "' in model '" + path_ + "'";
  const std::string suggestion = detail::did_you_mean(closest_names(name));
  if (!suggestion.empty()) message += ": " + suggestion;
  throw UnknownLayerError(message, "run 'torchprobe layers " + path_ + "' to list layer names");
}

std::vector<std::string> Model::closest_names(const std::string& name, std::size_t count) const {
  std::vector<std::string> names;
  for (const auto& entry : modules_) names.push_back(entry.name);
  return detail::closest_names(name, names, count);
}

void Model::set_mode(Mode mode) {
  if (mode == Mode::kAsSaved) {
    for (auto& [module, flag] : saved_flags_) {
      module._ivalue()->setAttr("training", flag);
    }
    return;
  }
  module_.train(mode == Mode::kTrain);
}

void Model::set_channels_last(bool on) {
  const auto format = on ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  for (auto& entry : modules_) {
    if (entry.type != "Conv2d" || !entry.module.hasattr("weight")) continue;
    c10::IValue weight = entry.module.attr("weight");
    if (!weight.isTensor() || weight.toTensor().dim() != 4) continue;
    entry.module.setattr("weight", weight.toTensor().contiguous(format));
  }
}

}  // namespace torchprobe
