// `torchprobe diff BASELINE CANDIDATE [--rtol R] [--atol A] [--json]`
//
// Exit codes: 0 every response within tolerance, 1 any difference (kDifferent),
// 60 an input cannot be read or is not a torchprobe output (kBadResults), 2 bad options.
#include <iostream>

#include "cli/commands/command.h"
#include "cli/setting_flags.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"
#include "torchprobe/results/diff.h"
#include "torchprobe/results/results_reader.h"

namespace torchprobe::cli {
namespace {

struct DiffOptions {
  std::string baseline;
  std::string candidate;
  Tolerance tolerance;
  bool json = false;
  std::size_t max_lines = 20;
};

int run_diff(const DiffOptions& options) {
  Results baseline = read_results(options.baseline);
  Results candidate = read_results(options.candidate);
  DiffReport report = diff_results(baseline, candidate, options.tolerance);
  if (options.json) {
    std::cout << dump_json(report.to_json(), /*pretty=*/true) << "\n";
  } else {
    std::cout << format_diff_table(report, options.max_lines, flag_for);
  }
  return int(report.same() ? ExitCode::kOk : ExitCode::kDifferent);
}

}  // namespace

CommandAction add_diff_command(CLI::App& app) {
  auto options = std::make_shared<DiffOptions>();
  auto* cmd = app.add_subcommand(
      "diff",
      "Compare two outputs (JSON or JSONL) stimulus by stimulus and layer by layer; "
      "exit 1 if they differ");
  cmd->add_option("baseline", options->baseline, "The reference output (.json or .jsonl)")
      ->required();
  cmd->add_option("candidate", options->candidate, "The output to check against it")->required();
  add_tolerance_options(*cmd, options->tolerance);
  cmd->add_flag("--json", options->json, "Print the machine-readable report instead of a table");
  cmd->add_option("--max-lines", options->max_lines,
                  "Differences listed in the table (the JSON report lists all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return [options] { return run_diff(*options); };
}

}  // namespace torchprobe::cli
