// `torchprobe render SPEC... -o DIR [--model MODEL] [--size HxW] [--fit stretch|crop] [--npy]`:
// writes each stimulus as the model would see it before normalisation (after decoding,
// resizing and cropping), so that people can look at it.
#include <filesystem>
#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/stimulus_options.h"
#include "cli/console.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"
#include "torchprobe/stimuli/preprocess.h"
#include "torchprobe/stimuli/stimulus_files.h"

namespace torchprobe::cli {
namespace {

struct RenderOptions {
  StimulusOptions stimulus;
  std::string output;
  std::string model;
  std::string size;
  int64_t channels = 0;  // 0: model metadata, else 3
  bool npy = false;
};

Preprocessing resolve_render_preprocessing(const RenderOptions& options) {
  PreprocessOptions pre_options;
  if (!options.size.empty()) pre_options.size = parse_size(options.size);
  if (options.channels != 0) pre_options.channels = options.channels;
  apply_preprocess_options(options.stimulus, pre_options);
  pre_options.preprocess = Normalization::kNone;  // render writes pixels before normalisation
  Preprocessing pre;
  if (options.model.empty()) {
    pre = resolve_preprocessing(pre_options);
  } else {
    Model model = Model::load(options.model);
    std::vector<std::string> ignored;  // about normalisation, which render does not apply
    pre = resolve_preprocessing(model, pre_options, ignored);
  }
  return pre;
}

// Creates DIR (and its parents); true when it did not exist before. Throws OutputError.
bool create_output_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool created = fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw OutputError(ExitCode::kOutput, "cannot write to directory '" + dir + "': " +
                                             (ec ? ec.message() : std::string("not a directory")));
  }
  return created;
}

// Each stimulus as DIR/<stem>.png (and .npy), then DIR/manifest.json naming the files. Each
// file written is added to `written`.
void render_files(const std::vector<StimulusSpec>& stimuli, const Preprocessing& pre,
                  const RenderOptions& options, std::vector<std::string>& written) {
  std::vector<StimulusFile> manifest;  // the PNGs; the --npy file has the same stem
  for (const auto& spec : stimuli) {
    at::Tensor pixels = pre.pixels(spec);
    const std::string stem = stimulus_file_stem(spec.id);
    const std::string path = (std::filesystem::path(options.output) / stem).string();
    const int64_t clamped = write_png(path + ".png", pixels);
    written.push_back(path + ".png");
    if (clamped > 0) {
      print_warning("stimulus '" + spec.id + "': " + std::to_string(clamped) +
                    " values outside [0, 1] are clipped in '" + path +
                    ".png' (not in the model input)");
    }
    if (options.npy) {
      write_npy(path + ".npy", pixels);
      written.push_back(path + ".npy");
    }
    manifest.push_back({spec.id, stem + ".png"});
    std::cout << path << ".png\n";
  }
  write_file_manifest(options.output, manifest);
}

int render_stimuli(const RenderOptions& options) {
  std::vector<StimulusSpec> stimuli = collect_stimuli(options.stimulus);
  if (stimuli.empty()) {
    throw UsageError("no stimuli to render",
                     "give image files, directories, @LIST files, "
                     "synthetic specs or --sweep");
  }
  const Preprocessing pre = resolve_render_preprocessing(options);
  const bool created = create_output_directory(options.output);
  std::vector<std::string> written;
  try {
    render_files(stimuli, pre, options, written);
  } catch (...) {
    // No partial output: what this run wrote goes, and the directory if it made it.
    std::error_code ignored;
    for (const auto& path : written) std::filesystem::remove(path, ignored);
    if (created) std::filesystem::remove(options.output, ignored);  // only when empty
    throw;
  }
  return 0;
}

}  // namespace

CommandAction add_render_command(CLI::App& app) {
  auto options = std::make_shared<RenderOptions>();
  auto* cmd = app.add_subcommand(
      "render", "Write stimuli as 16-bit PNG files as the model sees them before normalisation");
  cmd->add_option("stimuli", options->stimulus.stimuli,
                  "Image files, directories, @LIST files or synthetic specs");
  cmd->add_option("-o,--output", options->output, "Directory for the PNG files (created if needed)")
      ->required();
  cmd->add_option("--model", options->model,
                  "Take the input size, channels and fit from this model's metadata");
  cmd->add_option("--size", options->size, "HxW (default: model metadata, else 224x224)");
  cmd->add_option("--channels", options->channels, "1 (gray) or 3 (RGB) (default: model, else 3)");
  cmd->add_flag("--npy", options->npy,
                "Also write DIR/<id>.npy: the exact float32 [C,H,W] pixels, unclipped");
  add_stimulus_options(cmd, options->stimulus, /*normalisation=*/false);
  return [options] { return render_stimuli(*options); };
}

}  // namespace torchprobe::cli
