// `torchprobe extract MODEL --layer NAME... -o PROBE.pt [--mode M] [--input-size CxHxW]`
//
// Exit codes: 0 written; model, layer and forward errors as for `run`; 50/51 output errors.
#include <filesystem>
#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/stimulus_options.h"
#include "cli/console.h"
#include "torchprobe/errors.h"
#include "torchprobe/tools/extract.h"

namespace torchprobe::cli {
namespace {

struct ExtractCommandOptions {
  std::string model;
  std::vector<std::string> layers;
  std::string output;
  std::string mode = "eval";
  std::string input_size;
  bool force = false;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

int run_extract(const ExtractCommandOptions& options) {
  ExtractOptions extract;
  extract.layers = options.layers;
  extract.mode = parse_mode(options.mode);
  if (!options.input_size.empty()) extract.input_size = parse_input_size(options.input_size);
  std::error_code error;
  if (std::filesystem::exists(options.output, error) && !options.force) {
    throw OutputError(ExitCode::kOutputExists,
                      "output '" + options.output + "' exists: not overwriting it",
                      "give --force to replace it");
  }

  Model model = Model::load(options.model);
  Extractor probe = build_extractor(model, extract);
  save_extractor(probe, options.output);

  std::cout << "wrote " << options.output << ": forward(x) -> Dict[str, Tensor] with "
            << probe.names.size() << " capture" << (probe.names.size() == 1 ? "" : "s")
            << " (example input " << shape_text(probe.example_size) << ")\n";
  for (std::size_t i = 0; i < probe.names.size(); ++i) {
    std::cout << "  " << probe.names[i] << "  " << shape_text(probe.shapes[i]) << "\n";
  }
  for (const auto& name : probe.not_called) {
    print_warning("layer '" + name +
                  "' was not called in the example forward: the probe has no "
                  "key for it");
  }
  return 0;
}

}  // namespace

CommandAction add_extract_command(CLI::App& app) {
  auto options = std::make_shared<ExtractCommandOptions>();
  auto* cmd = app.add_subcommand(
      "extract",
      "Write a standalone TorchScript probe whose forward(x) returns the captures as "
      "a Dict[str, Tensor]");
  cmd->add_option("model", options->model, "TorchScript model file (.pt)")->required();
  cmd->add_option("-l,--layer", options->layers,
                  "Layer to capture (repeatable): NAME, NAME#i, NAME:in")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", options->output, "The probe file to write (.pt)")->required();
  cmd->add_option("--mode", options->mode, "eval | train | as-saved (folded into the probe)")
      ->capture_default_str();
  cmd->add_option("--input-size", options->input_size,
                  "CxHxW of the example forward that fixes the call counts "
                  "(default: model metadata, else 3x224x224)");
  cmd->add_flag("-f,--force", options->force, "Overwrite an existing output file");
  return [options] { return run_extract(*options); };
}

}  // namespace torchprobe::cli
