// `torchprobe run MODEL --layer NAME... [STIMULUS...] [-o FILE] [--readout R] ...`
#include <torch/torch.h>

#include <iostream>

#include "cli/commands/command.h"
#include "cli/console.h"
#include "torchprobe/errors.h"
#include "torchprobe/model.h"
#include "torchprobe/output/json_document_writer.h"
#include "torchprobe/probe.h"

namespace torchprobe::cli {
namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> layers;
  std::vector<std::string> stimuli;
  std::string output;
  std::string readout = "center";
  bool no_truncate = false;
  int64_t batch_size = 16;
  int64_t threads = 0;
  std::string device = "cpu";
  std::string mode = "eval";
  std::string preprocess;
  std::string size;
};

int run_probe(const RunOptions& options) {
  if (options.device != "cpu") {
    throw UsageError("device '" + options.device + "' is not available: this build of LibTorch is CPU-only",
                     "use --device cpu");
  }
  if (options.threads < 0 || options.threads > 1024) {
    throw UsageError("bad --threads " + std::to_string(options.threads) + ": expected 0 (auto) to 1024");
  }
  if (options.batch_size < 1 || options.batch_size > 65536) {
    throw UsageError("bad --batch-size " + std::to_string(options.batch_size) + ": expected 1 to 65536");
  }
  if (options.threads > 0) at::set_num_threads(int(options.threads));

  ProbeOptions probe_options;
  probe_options.layers = options.layers;
  probe_options.readout = Readout::parse(options.readout);
  probe_options.truncate = !options.no_truncate;
  probe_options.batch_size = options.batch_size;
  probe_options.mode = parse_mode(options.mode);
  probe_options.preprocess.preprocess = options.preprocess;
  if (!options.size.empty()) probe_options.preprocess.size = parse_size(options.size);

  std::vector<StimulusSpec> stimuli;
  for (const auto& text : options.stimuli) stimuli.push_back(StimulusSpec::parse(text));
  if (stimuli.empty()) stimuli.push_back(StimulusSpec::parse("uniform:1"));

  Model model = Model::load(options.model);
  Probe probe(model, probe_options, print_warning);
  if (options.output.empty() || options.output == "-") {
    JsonDocumentWriter writer(std::cout);
    probe.run(stimuli, writer);
  } else {
    JsonDocumentWriter writer(options.output);
    probe.run(stimuli, writer);
  }
  return 0;
}

}  // namespace

CommandAction add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Probe layers with stimuli and write their responses as JSON");
  cmd->add_option("model", options->model, "TorchScript model file (.pt)")->required();
  cmd->add_option("stimuli", options->stimuli,
                  "Image files or synthetic specs (uniform:V, noise:SEED, each with optional @HxW); "
                  "default uniform:1");
  cmd->add_option("-l,--layer", options->layers,
                  "Layer to capture (repeatable): NAME, NAME#i for the i-th call, NAME:in for its input")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", options->output, "Output JSON file (default: stdout)");
  cmd->add_option("--readout", options->readout, "center | at:Y,X | mean | max | full")
      ->capture_default_str();
  cmd->add_flag("--no-truncate", options->no_truncate,
                "Run the whole forward instead of only what the captures need");
  cmd->add_option("--batch-size", options->batch_size, "Stimuli per forward")->capture_default_str();
  cmd->add_option("--threads", options->threads, "LibTorch intra-op threads (0: LibTorch's default)");
  cmd->add_option("--device", options->device, "cpu (cuda needs a CUDA build of LibTorch)")
      ->capture_default_str();
  cmd->add_option("--mode", options->mode, "eval | train | as-saved")->capture_default_str();
  cmd->add_option("--preprocess", options->preprocess,
                  "none | imagenet | model (default: model metadata, else none)");
  cmd->add_option("--size", options->size, "Input HxW (default: model metadata, else 224x224)");
  return [options] { return run_probe(*options); };
}

}  // namespace torchprobe::cli
