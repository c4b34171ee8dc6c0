#include "cli/commands/run_options.h"

#include <charconv>
#include <filesystem>

#include "torchprobe/errors.h"
#include "torchprobe/output/jsonl_writer.h"
#include "torchprobe/output/output_format.h"
#include "torchprobe/results/jsonl_reader.h"

namespace torchprobe::cli {
namespace {

// The integer `text` given to `flag`, within [low, high], else a UsageError that names the text
// and `expected`.
int64_t bounded_integer(const std::string& flag, const std::string& text, int64_t low, int64_t high,
                        const std::string& expected) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end || value < low || value > high) {
    throw UsageError("bad " + flag + " " + text + ": expected " + expected);
  }
  return value;
}

Shard parse_shard(const std::string& text) {
  try {
    return Shard::parse(text);
  } catch (const UsageError& e) {
    throw UsageError(e.message_template(),
                     e.hint_template() + "; in a Slurm array use --array=1-N");
  }
}

}  // namespace

void RunComputeOptions::add(CLI::App* cmd) {
  cmd->option_defaults()->group("Compute");
  cmd->add_option("--batch-size", batch_size, "Stimuli per forward")
      ->type_name("INT")
      ->capture_default_str();
  cmd->add_option("--threads", threads,
                  "LibTorch intra-op threads (0: LibTorch's default, the physical cores or "
                  "OMP_NUM_THREADS, at most the CPUs this process may use)")
      ->type_name("INT");
  cmd->add_option("--device", device, "cpu (cuda needs a CUDA build of LibTorch)")
      ->capture_default_str();
  cmd->add_option("--workers", workers,
                  "Threads preparing the next batches while the model runs (0: none; "
                  "default: CPUs/4, 1 to 4)")
      ->type_name("INT");
}

RunComputeOptions::Parsed RunComputeOptions::parse() const {
  if (device != "cpu") {
    throw UsageError("device '" + device + "' is not available: this build of LibTorch is CPU-only",
                     "use --device cpu");
  }
  Parsed parsed;
  parsed.threads = bounded_integer("--threads", threads, 0, 1024, "0 (auto) to 1024");
  parsed.batch_size = bounded_integer("--batch-size", batch_size, 1, 65536, "1 to 65536");
  parsed.workers = workers.empty() ? -1 : bounded_integer("--workers", workers, 0, 256, "0 to 256");
  return parsed;
}

void RunCaptureOptions::add_layers(CLI::App* cmd) {
  cmd->add_option(
         "-l,--layer", layers,
         "Layer to capture (repeatable): NAME, NAME#i for the i-th call, NAME:in for its input")
      ->required()
      ->allow_extra_args(false);
}

void RunCaptureOptions::add(CLI::App* cmd) {
  cmd->option_defaults()->group("Capture");
  cmd->add_option("--readout", readout, "center | at:Y,X | mean | max | full")
      ->capture_default_str();
  cmd->add_flag("--no-truncate", no_truncate,
                "Run the whole forward instead of only what the captures need");
  cmd->add_flag("--no-crop", no_crop,
                "Compute point readouts (center, at:Y,X) on the full input instead of the "
                "receptive-field crop");
  cmd->add_flag("--no-channels-last", no_channels_last,
                "Compute convolutions in the default contiguous (NCHW) layout instead of "
                "channels-last (same values up to float32 rounding; slower)");
  cmd->add_option("--mode", mode, "eval | train | as-saved")->capture_default_str();
  cmd->add_option("--preprocess", preprocess,
                  "none | imagenet | model (default: model metadata, else none)");
  cmd->add_option("--size", size, "Input HxW (default: model metadata, else 224x224)");
}

ProbeOptions RunCaptureOptions::parse(int64_t batch_size, const StimulusOptions& stimulus) const {
  ProbeOptions options;
  options.layers = layers;
  options.readout = Readout::parse(readout);
  options.truncate = !no_truncate;
  options.crop = !no_crop;
  options.channels_last = !no_channels_last;
  options.batch_size = batch_size;
  options.mode = parse_mode(mode);
  if (!preprocess.empty()) options.preprocess.preprocess = parse_normalization(preprocess);
  if (!size.empty()) options.preprocess.size = parse_size(size);
  apply_preprocess_options(stimulus, options.preprocess);
  return options;
}

void RunOutputOptions::add_output(CLI::App* cmd) {
  cmd->add_option("-o,--output", output,
                  "Output: FILE.json (one JSON document, written when complete) or FILE.jsonl "
                  "(JSON Lines, written batch by batch); - or default: a JSON document on stdout");
}

void RunOutputOptions::add(CLI::App* cmd) {
  cmd->option_defaults()->group("Output and batch runs");
  cmd->add_option("--dump-inputs", dump_inputs,
                  "Also write each stimulus's model input (after preprocessing) as DIR/<id>.npy, "
                  "float32 [1,C,H,W]");
  cmd->add_flag("-q,--quiet", quiet,
                "No progress line (warnings and the summary line stay: they are about the results)");
  cmd->add_flag("--resume", resume,
                "Continue an interrupted JSON Lines output (-o FILE.jsonl) where it stopped");
  cmd->add_flag("--force", force, "Overwrite an existing output");
  cmd->add_flag("--skip-bad", skip_bad,
                "Write {\"id\", \"index\", \"error\"} for an unusable stimulus and go on "
                "(default: stop)");
  cmd->add_option("--shard", shard,
                  "Probe part K of N (1 <= K <= N) of the batches: those numbered b with "
                  "b % N == K-1; needs -o FILE.jsonl (see 'torchprobe merge')");
}

RunOutputOptions::Parsed RunOutputOptions::parse() const {
  Parsed parsed;
  parsed.to_stdout = output == "-";
  parsed.jsonl = !parsed.to_stdout && output_format_for(output) == OutputFormat::kJsonLines;
  if (resume && force) {
    throw UsageError("--resume and --force contradict each other",
                     "--resume continues the output, --force starts it again");
  }
  if ((resume || !shard.empty()) && !parsed.jsonl) {
    throw UsageError(std::string(resume ? "--resume" : "--shard") +
                     " needs a JSON Lines output: -o FILE.jsonl");
  }
  parsed.shard = shard.empty() ? Shard{} : parse_shard(shard);
  std::error_code exists_error;
  if (!parsed.to_stdout && !force && !resume && std::filesystem::exists(output, exists_error)) {
    throw_output_exists(output, parsed.jsonl);
  }
  return parsed;
}

}  // namespace torchprobe::cli
