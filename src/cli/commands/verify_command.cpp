// `torchprobe verify MODEL --layer NAME... [STIMULUS...] [--json]`
//
// Exit codes: 0 every capture of the truncated program is bitwise identical to the untruncated
// program's and to a re-run's; 1 any is not (kDifferent); model, layer and stimulus errors as
// for `run`.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/commands/command.h"
#include "cli/commands/stimulus_options.h"
#include "cli/console.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"
#include "torchprobe/tools/verify.h"

namespace torchprobe::cli {
namespace {

struct VerifyCommandOptions {
  std::string model;
  std::vector<std::string> layers;
  std::vector<std::string> stimuli;
  std::string mode = "eval";
  std::string preprocess;
  std::string size;
  StimulusOptions stimulus;  // --sweep, --recursive, --fit, --mean, --std
  bool json = false;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string verdict(int64_t differs, int64_t stimuli, double max_diff) {
  if (differs == 0) return "identical";
  std::ostringstream out;
  out << "DIFFERS in " << differs << "/" << stimuli << " (max abs " << std::setprecision(3)
      << max_diff << ")";
  return out.str();
}

void print_table(const VerifyReport& report) {
  std::cout << "model: " << report.model << "\n"
            << "stimuli: ";
  for (std::size_t i = 0; i < report.stimuli.size(); ++i) {
    std::cout << (i ? ", " : "") << report.stimuli[i];
  }
  std::cout << "\nconvolutions run: " << report.truncated_convolutions << " truncated, "
            << report.full_convolutions << " untruncated\n\n";
  std::size_t name_width = 7, shape_width = 5;
  for (const auto& c : report.captures) {
    name_width = std::max(name_width, c.name.size());
    shape_width = std::max(shape_width, shape_text(c.shape).size());
  }
  std::cout << std::left << std::setw(int(name_width)) << "capture"
            << "  " << std::setw(int(shape_width)) << "shape"
            << "  " << std::setw(30) << "truncated vs untruncated"
            << "  truncated vs re-run\n";
  for (const auto& c : report.captures) {
    std::cout << std::left << std::setw(int(name_width)) << c.name << "  "
              << std::setw(int(shape_width)) << (c.stimuli ? shape_text(c.shape) : "-") << "  "
              << std::setw(30) << verdict(c.full_differs, c.stimuli, c.full_max_abs_diff) << "  "
              << verdict(c.rerun_differs, c.stimuli, c.rerun_max_abs_diff) << "\n";
    for (const auto& problem : c.problems) std::cout << "  problem: " << problem << "\n";
  }
  for (const auto& name : report.not_called) {
    std::cout << "note: '" << name << "' was not called for any stimulus (nothing to compare)\n";
  }
  std::cout << "\nresult: "
            << (report.passed() ? "identical: every capture is bitwise equal in all three programs"
                                : "DIFFERENT: the rewrite changed a capture (please report this)")
            << "\n";
}

int run_verify(const VerifyCommandOptions& options) {
  VerifyOptions verify;
  verify.layers = options.layers;
  verify.mode = parse_mode(options.mode);
  if (!options.preprocess.empty())
    verify.preprocess.preprocess = parse_normalization(options.preprocess);
  if (!options.size.empty()) verify.preprocess.size = parse_size(options.size);
  apply_preprocess_options(options.stimulus, verify.preprocess);
  StimulusOptions stimulus_options = options.stimulus;
  stimulus_options.stimuli = options.stimuli;
  std::vector<StimulusSpec> stimuli = collect_stimuli(stimulus_options, "noise:1");

  Model model = Model::load(options.model);
  std::vector<std::string> warnings;
  VerifyReport report = verify_captures(model, stimuli, verify, warnings);
  for (const auto& w : warnings) print_warning(w);
  if (options.json) {
    std::cout << dump_json(report.to_json(), /*pretty=*/true) << "\n";
  } else {
    print_table(report);
  }
  return int(report.passed() ? ExitCode::kOk : ExitCode::kDifferent);
}

}  // namespace

CommandAction add_verify_command(CLI::App& app) {
  auto options = std::make_shared<VerifyCommandOptions>();
  auto* cmd = app.add_subcommand(
      "verify",
      "Check that truncated captures are bitwise identical to the full forward's and "
      "to a re-run's");
  cmd->add_option("model", options->model, "TorchScript model file (.pt)")->required();
  cmd->add_option("stimuli", options->stimuli,
                  "Stimuli as for run (files, directories, @LIST, synthetic specs), each run as a "
                  "batch of one; default noise:1");
  cmd->add_option("-l,--layer", options->layers,
                  "Layer to capture (repeatable): NAME, NAME#i, NAME:in")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--mode", options->mode, "eval | train | as-saved")->capture_default_str();
  cmd->add_option("--preprocess", options->preprocess,
                  "none | imagenet | model (default: model metadata, else none)");
  cmd->add_option("--size", options->size, "Input HxW (default: model metadata, else 224x224)");
  add_stimulus_options(cmd, options->stimulus);
  cmd->add_flag("--json", options->json, "Print a JSON report instead of a table");
  return [options] { return run_verify(*options); };
}

}  // namespace torchprobe::cli
