#include "cli/app.h"

#include <torch/version.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/commands/command.h"
#include "cli/console.h"
#include "cli/heap_reuse.h"
#include "cli/model_warnings.h"
#include "torchprobe/detail/closest_names.h"
#include "torchprobe/errors.h"
#include "torchprobe/version.h"

namespace torchprobe::cli {
namespace {

// A first argument that is neither an option nor a command ("runn"): CLI11 would only say "A
// subcommand is required". Prints the error naming it, with the closest commands.
bool is_unknown_command(CLI::App& app, const std::string& word) {
  if (word.empty() || word[0] == '-') return false;
  std::vector<std::string> commands;
  for (const auto* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  if (std::find(commands.begin(), commands.end(), word) != commands.end()) return false;
  const std::string suggestion = detail::did_you_mean(detail::closest_names(word, commands));
  print_error("unknown command '" + word + "'", (suggestion.empty() ? "" : suggestion + " ") +
                                                    "run 'torchprobe --help' to list the commands");
  return true;
}

}  // namespace

int run(int argc, char** argv) {
  // Past the file size limit (ulimit -f) the kernel sends SIGXFSZ, whose default action kills
  // the process without a word and before any clean-up. Ignored, the write fails with EFBIG
  // instead, which the writers report as a full disk (exit 50) after removing or cutting back
  // what they wrote.
  std::signal(SIGXFSZ, SIG_IGN);
  // Forwards reuse their activation blocks instead of page-faulting fresh ones each batch.
  keep_freed_memory_for_reuse();
  CLI::App app{"torchprobe: capture what a TorchScript model's layers respond to"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("torchprobe ") + TORCHPROBE_VERSION +
                                        " (LibTorch " + TORCH_VERSION + ")");
  std::map<CLI::App*, CommandAction> actions;
  auto add = [&](CommandAction action) { actions[app.get_subcommands({}).back()] = action; };
  add(add_layers_command(app));
  add(add_run_command(app));
  add(add_render_command(app));
  add(add_merge_command(app));
  add(add_explain_command(app));
  add(add_bn_check_command(app));
  add(add_diff_command(app));
  add(add_check_command(app));
  add(add_verify_command(app));
  add(add_extract_command(app));

  if (argc > 1 && is_unknown_command(app, argv[1])) return int(ExitCode::kUsage);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(e.what(), "run 'torchprobe --help' or 'torchprobe COMMAND --help'");
    return int(ExitCode::kUsage);
  }

  ModelWarningPrinter model_warnings;
  try {
    for (auto* sub : app.get_subcommands()) return actions.at(sub)();
    return int(ExitCode::kUsage);
  } catch (const Error& e) {
    print_error(e);
    return int(e.code());
  } catch (const c10::Error& e) {
    print_error(std::string("LibTorch: ") + e.what_without_backtrace());
    return int(ExitCode::kInternal);
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what(),
                "please report this with the command that caused it");
    return int(ExitCode::kInternal);
  }
}

}  // namespace torchprobe::cli
