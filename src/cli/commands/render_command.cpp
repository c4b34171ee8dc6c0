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
  if (options.channels != 0) {
    if (options.channels != 1 && options.channels != 3) {
      throw UsageError("bad --channels " + std::to_string(options.channels) + ": expected 1 or 3");
    }
    pre.channels = options.channels;
  }
  return pre;
}

int render_stimuli(const RenderOptions& options) {
  std::vector<StimulusSpec> stimuli = collect_stimuli(options.stimulus);
  if (stimuli.empty()) {
    throw UsageError("no stimuli to render",
                     "give image files, directories, @LIST files, "
                     "synthetic specs or --sweep");
  }
  const Preprocessing pre = resolve_render_preprocessing(options);
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.output, ec);
  if (ec || !fs::is_directory(options.output)) {
    throw OutputError(ExitCode::kOutput, "cannot write to directory '" + options.output + "': " +
                                             (ec ? ec.message() : std::string("not a directory")));
  }
  StimulusFileNamer namer;
  for (const auto& spec : stimuli) {
    at::Tensor pixels = pre.pixels(spec);
    const fs::path stem = fs::path(options.output) / namer.stem_for(spec.id);
    const std::string png = stem.string() + ".png";
    int64_t clamped = write_png(png, pixels);
    if (clamped > 0) {
      print_warning("stimulus '" + spec.id + "': " + std::to_string(clamped) +
                    " values outside [0, 1] are clipped in '" + png + "' (not in the model input)");
    }
    if (options.npy) write_npy(stem.string() + ".npy", pixels);
    std::cout << png << "\n";
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
