// `torchprobe explain MODEL LAYER [--json]`
#include <iostream>

#include "cli/commands/command.h"
#include "cli/setting_flags.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/model/model.h"
#include "torchprobe/tools/explain.h"

namespace torchprobe::cli {
namespace {

struct ExplainOptions {
  std::string model;
  std::string layer;
  bool json = false;
};

int run_explain(const ExplainOptions& options) {
  Model model = Model::load(options.model);
  LayerExplanation explanation = explain_layer(model, options.layer);
  if (options.json) {
    std::cout << dump_json(explanation.to_json(), /*pretty=*/true) << "\n";
  } else {
    std::cout << explanation.to_text(flag_for);
  }
  return 0;
}

}  // namespace

CommandAction add_explain_command(CLI::App& app) {
  auto options = std::make_shared<ExplainOptions>();
  auto* cmd = app.add_subcommand(
      "explain",
      "Explain what a layer's numbers depend on: functional code before it, in-place ops "
      "after it, calls, training-mode behaviour");
  cmd->add_option("model", options->model, "TorchScript model file (.pt)")->required();
  cmd->add_option("layer", options->layer, "Layer name (see 'torchprobe layers')")->required();
  cmd->add_flag("--json", options->json, "Print JSON instead of text");
  return [options] { return run_explain(*options); };
}

}  // namespace torchprobe::cli
