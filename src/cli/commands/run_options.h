#pragma once
// `torchprobe run`'s options in groups, each with its flags and help (add(), shown under the
// group's heading in --help) and its checks (parse()), in the manner of TensorRT trtexec's sampleOptions.h. parse() throws UsageError
// naming the flag and the text as typed.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/commands/stimulus_options.h"
#include "torchprobe/run/probe.h"
#include "torchprobe/run/shard.h"

namespace torchprobe::cli {

// How the forwards run: --device, --threads, --batch-size, --workers.
struct RunComputeOptions {
  // Integers kept as given, so that an error names the text (CLI11 would turn a number too
  // large for int64 into its largest value).
  std::string device = "cpu";
  std::string threads = "0";
  std::string batch_size = "16";
  std::string workers;  // empty or -1: default_workers()

  struct Parsed {
    int64_t threads = 0;  // 0: LibTorch's default
    int64_t batch_size = 16;
    int64_t workers = -1;  // -1: one per 4 CPUs, 1 to 4
  };
  void add(CLI::App* cmd);
  Parsed parse() const;
};

// What is captured and how: --layer, --readout, --mode, --no-truncate, --no-crop,
// --no-channels-last, and the preprocessing (--preprocess, --size, --fit, --mean, --std).
struct RunCaptureOptions {
  std::vector<std::string> layers;
  std::string readout = "center";
  std::string mode = "eval";
  bool no_truncate = false;
  bool no_crop = false;
  bool no_channels_last = false;
  std::string preprocess;
  std::string size;

  void add_layers(CLI::App* cmd);  // --layer, registered right after the positionals
  void add(CLI::App* cmd);
  // The probe's options (batch size from RunComputeOptions, --fit/--mean/--std from `stimulus`).
  ProbeOptions parse(int64_t batch_size, const StimulusOptions& stimulus) const;
};

// Where the records go and how a batch run goes on: -o, --resume, --force, --skip-bad, --shard,
// --quiet, --dump-inputs.
struct RunOutputOptions {
  std::string output = "-";  // "-": stdout; an empty -o '' is refused
  bool resume = false;
  bool force = false;
  bool skip_bad = false;
  std::string shard;
  bool quiet = false;
  std::string dump_inputs;

  struct Parsed {
    bool to_stdout = false;
    bool jsonl = false;
    Shard shard;
  };
  void add_output(CLI::App* cmd);  // -o, registered right after --layer
  void add(CLI::App* cmd);
  // Also refuses an existing output that neither --force nor --resume allows touching.
  Parsed parse() const;
};

}  // namespace torchprobe::cli
