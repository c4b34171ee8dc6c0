// `torchprobe check MODEL --golden FILE [--rtol R] [--atol A] [--json] [-o NEW.json]`
//
// Exit codes: 0 the model responds as the golden file records, within tolerance;
// 1 it does not (kDifferent; the diff table says where); 30 a stimulus file is missing or
// changed since the golden file was written (kStimulus; the model is not checked);
// 60 the golden file is not a readable torchprobe output (kBadResults); model and layer
// errors as for `run` (10-21).
#include <torch/torch.h>

#include <iostream>
#include <sched.h>

#include "cli/commands/command.h"
#include "cli/console.h"
#include "cli/setting_flags.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"
#include "torchprobe/output/json_document_writer.h"
#include "torchprobe/results/check.h"

namespace torchprobe::cli {
namespace {

struct CheckCommandOptions {
  std::string model;
  std::string golden;
  CheckOptions check;
  std::string output;
  int64_t threads = 0;
  bool json = false;
  std::size_t max_lines = 20;
};

// NOTE: the same default as `run` (the CPUs this process may use), so that re-running a golden
// file on the machine that wrote it gives the same bits: LibTorch's reductions round differently
// with other thread counts (within the default tolerance, but not bitwise).
int default_threads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return 1;
}

int run_check(const CheckCommandOptions& options) {
  if (options.threads < 0 || options.threads > 1024) {
    throw UsageError("bad --threads " + std::to_string(options.threads) +
                     ": expected 0 (auto) to 1024");
  }
  at::set_num_threads(int(options.threads > 0 ? options.threads : default_threads()));
  Results golden = read_results(options.golden);
  Model model = Model::load(options.model);
  std::unique_ptr<JsonDocumentWriter> writer;
  if (!options.output.empty()) writer = std::make_unique<JsonDocumentWriter>(options.output);
  CheckResult result = check_model(model, golden, options.check, print_warning, writer.get());
  for (const auto& id : result.skipped) {
    print_warning("stimulus '" + id + "' failed when the golden file was written: not re-run");
  }
  if (options.json) {
    std::cout << dump_json(result.report.to_json(), /*pretty=*/true) << "\n";
  } else {
    std::cout << format_diff_table(result.report, options.max_lines, flag_for);
  }
  return int(result.report.same() ? ExitCode::kOk : ExitCode::kDifferent);
}

}  // namespace

CommandAction add_check_command(CLI::App& app) {
  auto options = std::make_shared<CheckCommandOptions>();
  auto* cmd = app.add_subcommand(
      "check",
      "Re-run the probe a golden output records on MODEL and diff the responses; "
      "exit 1 if they differ");
  cmd->add_option("model", options->model, "TorchScript model file (.pt)")->required();
  cmd->add_option("-g,--golden", options->golden,
                  "The golden output (.json or .jsonl) written by 'torchprobe run'")
      ->required();
  add_tolerance_options(*cmd, options->check.tolerance);
  cmd->add_option("--stimulus-root", options->check.stimulus_root,
                  "Directory that relative stimulus file ids are resolved against "
                  "(default: working directory, else the golden file's directory)");
  cmd->add_option("--batch-size", options->check.batch_size,
                  "Stimuli per forward (default: as recorded in the golden header, else 16)")
      ->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_option("--threads", options->threads,
                  "LibTorch intra-op threads (0: the CPUs this process may use, as for run)");
  cmd->add_option("-o,--output", options->output, "Also write the new responses (JSON document)");
  cmd->add_flag("--json", options->json, "Print the machine-readable diff report");
  cmd->add_option("--max-lines", options->max_lines, "Differences listed in the table")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return [options] { return run_check(*options); };
}

}  // namespace torchprobe::cli
