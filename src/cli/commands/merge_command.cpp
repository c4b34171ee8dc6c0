// `torchprobe merge PART... -o ALL.jsonl [--force]`: the parts of a sharded run, in stimulus order.
#include <iostream>

#include "cli/commands/command.h"
#include "torchprobe/errors.h"
#include "torchprobe/results/merge.h"

namespace torchprobe::cli {
namespace {

struct MergeCommandOptions {
  std::vector<std::string> parts;
  std::string output;
  bool force = false;
};

int run_merge(const MergeCommandOptions& options) {
  MergeOptions merge_options;
  merge_options.force = options.force;
  MergeSummary summary = merge_results(options.parts, options.output, merge_options);
  std::cerr << "summary: merged " << summary.records << " stimuli from " << summary.parts
            << (summary.parts == 1 ? " part, " : " parts, ") << summary.bad << " bad -> "
            << options.output << std::endl;
  return 0;
}

}  // namespace

CommandAction add_merge_command(CLI::App& app) {
  auto options = std::make_shared<MergeCommandOptions>();
  auto* cmd = app.add_subcommand(
      "merge", "Join the JSON Lines parts of a sharded run (run --shard K/N) in stimulus order");
  cmd->add_option("parts", options->parts, "The parts (PART.jsonl ...), in any order")->required();
  cmd->add_option("-o,--output", options->output,
                  "Merged output: FILE.jsonl (or FILE.json for one JSON document)")
      ->required();
  cmd->add_flag("--force", options->force, "Overwrite an existing output");
  return [options] { return run_merge(*options); };
}

}  // namespace torchprobe::cli
