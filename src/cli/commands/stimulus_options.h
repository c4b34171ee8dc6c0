#pragma once
// The stimulus and preprocessing options shared by `run` and `render`: --recursive, --sweep,
// --fit, --mean, --std (README "Stimuli", "Preprocessing").
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "torchprobe/stimuli/preprocess.h"
#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe::cli {

struct StimulusOptions {
  std::vector<std::string> stimuli;  // positional
  std::vector<std::string> sweeps;
  bool recursive = false;
  std::string fit;
  std::string mean;
  std::string std_dev;
};

// Adds --recursive, --sweep, --fit and, with `normalisation`, --mean, --std (not the positional
// stimuli).
void add_stimulus_options(CLI::App* cmd, StimulusOptions& options, bool normalisation = true);

// The expanded stimuli (stimulus_list.h), printing expansion warnings; `fallback` when none is
// given (empty: none). Throws StimulusError.
std::vector<StimulusSpec> collect_stimuli(const StimulusOptions& options,
                                          const std::string& fallback = "");

// Copies --fit, --mean, --std into `out`. Throws UsageError.
void apply_preprocess_options(const StimulusOptions& options, PreprocessOptions& out);

// --input-size CxHxW (layers, extract). Throws UsageError naming the text.
std::vector<int64_t> parse_input_size(const std::string& text);

}  // namespace torchprobe::cli
