#pragma once
// Each subcommand lives in one file: an options struct, its CLI11 wiring, and a call into
// torchprobe::core. `add_*_command` registers the subcommand and returns the action to run when
// it is chosen; the action returns the exit code.
#include <CLI/CLI.hpp>
#include <functional>

namespace torchprobe::cli {

using CommandAction = std::function<int()>;

CommandAction add_layers_command(CLI::App& app);
CommandAction add_run_command(CLI::App& app);
CommandAction add_render_command(CLI::App& app);
CommandAction add_merge_command(CLI::App& app);
CommandAction add_explain_command(CLI::App& app);
CommandAction add_bn_check_command(CLI::App& app);
CommandAction add_diff_command(CLI::App& app);
CommandAction add_check_command(CLI::App& app);
CommandAction add_verify_command(CLI::App& app);
CommandAction add_extract_command(CLI::App& app);

}  // namespace torchprobe::cli

namespace torchprobe {
struct Tolerance;
}

namespace torchprobe::cli {

// --rtol, --atol and --scale-tol, shared by diff and check (tolerance_options.cpp).
void add_tolerance_options(CLI::App& cmd, Tolerance& tolerance);

}  // namespace torchprobe::cli
