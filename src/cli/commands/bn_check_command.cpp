// `torchprobe bn-check MODEL [STIMULUS...] [--layer NAME...] [--json]`
#include <iostream>

#include "cli/commands/command.h"
#include "cli/setting_flags.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"
#include "torchprobe/stimuli/preprocess.h"
#include "torchprobe/stimuli/stimulus.h"
#include "torchprobe/tools/bn_check.h"

namespace torchprobe::cli {
namespace {

struct BnCheckCliOptions {
  std::string model;
  std::vector<std::string> stimuli;
  std::vector<std::string> layers;
  std::string mode = "as-saved";
  std::string preprocess;
  BnCheckOptions check;
  bool json = false;
};

int run_bn_check(const BnCheckCliOptions& options) {
  Model model = Model::load(options.model);
  model.set_mode(parse_mode(options.mode));
  std::vector<std::string> warnings;
  PreprocessOptions pre_options;
  if (!options.preprocess.empty()) {
    pre_options.preprocess = parse_normalization(options.preprocess);
  } else if (model.metadata().is_null()) {
    pre_options.preprocess = Normalization::kNone;
  }
  Preprocessing pre = resolve_preprocessing(model, pre_options, warnings);
  std::vector<std::string> specs = options.stimuli;
  if (specs.empty()) specs = {"noise:0", "noise:1"};  // a batch of two: batch statistics differ
  std::vector<at::Tensor> inputs;
  for (const auto& text : specs) {
    inputs.push_back(pre.prepare(StimulusSpec::parse(text)));
  }
  BnCheckOptions check = options.check;
  check.layers = options.layers;
  auto rows = bn_check(model, at::stack(inputs), check);
  if (options.json) {
    nlohmann::json out = {{"model", model.path()},
                          {"mode", options.mode},
                          {"atol", check.atol},
                          {"rtol", check.rtol},
                          {"layers", to_json(rows)}};
    std::cout << dump_json(out, /*pretty=*/true) << "\n";
  } else {
    std::cout << to_text(rows, check, flag_for);
  }
  for (const auto& row : rows) {
    if (row.failed) return int(ExitCode::kDifferent);
  }
  return 0;
}

}  // namespace

CommandAction add_bn_check_command(CLI::App& app) {
  auto options = std::make_shared<BnCheckCliOptions>();
  auto* cmd = app.add_subcommand(
      "bn-check",
      "Recompute every BatchNorm from its running statistics and compare with its output");
  cmd->add_option("model", options->model, "TorchScript model file (.pt)")->required();
  cmd->add_option("stimuli", options->stimuli, "Stimuli (default: noise:0 noise:1, as one batch)");
  cmd->add_option("-l,--layer", options->layers, "Only these BatchNorm layers (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--mode", options->mode, "as-saved | eval | train")->capture_default_str();
  cmd->add_option("--preprocess", options->preprocess, "none | imagenet | model");
  cmd->add_option("--atol", options->check.atol, "Absolute tolerance for eval-mode layers")
      ->capture_default_str();
  cmd->add_option("--rtol", options->check.rtol,
                  "Tolerance relative to the layer's magnitude (its largest |x * a| + |mean * a| + "
                  "|bias|, a = weight / sqrt(var + eps)), added to --atol")
      ->capture_default_str();
  cmd->add_flag("--json", options->json, "Print JSON instead of a table");
  return [options] { return run_bn_check(*options); };
}

}  // namespace torchprobe::cli
