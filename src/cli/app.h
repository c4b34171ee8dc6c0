#pragma once
// The torchprobe command line: parse, dispatch to a command, map errors to exit codes.
namespace torchprobe::cli {

// Runs the CLI and returns the process exit code (see the README's exit-code table).
int run(int argc, char** argv);

}  // namespace torchprobe::cli
