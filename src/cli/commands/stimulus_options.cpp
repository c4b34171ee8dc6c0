#include "cli/commands/stimulus_options.h"

#include "cli/console.h"
#include "torchprobe/numbers.h"
#include "torchprobe/stimuli/stimulus_list.h"

namespace torchprobe::cli {

void add_stimulus_options(CLI::App* cmd, StimulusOptions& options, bool normalisation) {
  cmd->add_option("--sweep", options.sweeps,
                  "Synthetic stimuli over parameter ranges (repeatable), e.g. "
                  "'grating:ori=0:180:15,sf=2|4|8': START:STOP[:STEP] (STOP exclusive) and "
                  "A|B|C lists, cartesian product")
      ->allow_extra_args(false);
  cmd->add_flag("-r,--recursive", options.recursive,
                "Directory stimuli include the images in their subdirectories");
  cmd->add_option("--fit", options.fit,
                  "How images reach the input size: stretch | crop (shorter side to size/0.875, "
                  "centre crop) (default: model metadata, else stretch)");
  if (!normalisation) return;
  cmd->add_option("--mean", options.mean,
                  "Normalisation mean per channel, comma-separated (instead of --preprocess)");
  cmd->add_option("--std", options.std_dev,
                  "Normalisation std per channel, comma-separated (instead of --preprocess)");
}

std::vector<StimulusSpec> collect_stimuli(const StimulusOptions& options,
                                          const std::string& fallback) {
  ExpandOptions expand;
  expand.recursive = options.recursive;
  expand.sweeps = options.sweeps;
  std::vector<std::string> warnings;
  std::vector<StimulusSpec> stimuli = expand_stimuli(options.stimuli, expand, warnings);
  for (const auto& w : warnings) print_warning(w);
  if (stimuli.empty() && !fallback.empty()) stimuli.push_back(StimulusSpec::parse(fallback));
  return stimuli;
}

void apply_preprocess_options(const StimulusOptions& options, PreprocessOptions& out) {
  if (!options.fit.empty()) out.fit = parse_fit(options.fit);
  if (!options.mean.empty()) out.mean = parse_float_list("--mean", options.mean);
  if (!options.std_dev.empty()) out.std_dev = parse_float_list("--std", options.std_dev);
}

std::vector<int64_t> parse_input_size(const std::string& text) {
  auto chw = parse_chw(text);
  if (!chw) throw UsageError("bad --input-size '" + text + "': expected CxHxW, e.g. 3x224x224");
  const std::string too_large = input_size_violation((*chw)[1], (*chw)[2]);
  if (!too_large.empty()) throw UsageError("bad --input-size '" + text + "': " + too_large);
  if ((*chw)[0] > 4096) {
    throw UsageError("bad --input-size '" + text + "': more than 4096 channels");
  }
  return *chw;
}

}  // namespace torchprobe::cli
