// `torchprobe run MODEL --layer NAME... [STIMULUS...] [-o FILE] [--readout R] ...`
#include <torch/torch.h>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <sched.h>

#include "cli/commands/command.h"
#include "cli/commands/stimulus_options.h"
#include "cli/console.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"
#include "torchprobe/output/json_document_writer.h"
#include "torchprobe/output/jsonl_writer.h"
#include "torchprobe/results/jsonl_reader.h"
#include "torchprobe/run/probe.h"
#include "torchprobe/run/resume.h"
#include "torchprobe/stimuli/stimulus_files.h"

namespace torchprobe::cli {
namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> layers;
  std::vector<std::string> stimuli;
  std::string output;
  std::string readout = "center";
  bool no_truncate = false;
  bool no_crop = false;
  bool no_channels_last = false;
  // Integers kept as given, so that an error names the text (CLI11 would turn a number too
  // large for int64 into its largest value); checked by bounded_integer().
  std::string batch_size = "16";
  std::string threads = "0";
  std::string device = "cpu";
  std::string mode = "eval";
  std::string preprocess;
  std::string size;
  StimulusOptions stimulus;  // --sweep, --recursive, --fit, --mean, --std
  std::string dump_inputs;   // --dump-inputs DIR
  // Batch runs (README "Batch probing at scale"):
  std::string workers;  // empty or -1: default_workers()
  bool quiet = false;
  bool resume = false;
  bool force = false;
  bool skip_bad = false;
  std::string shard;
};

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

// The CPUs this process may run on (its affinity mask, as taskset and Slurm set it).
int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return 1;
}

// One thread decoding per 4 CPUs, at least 1 and at most 4: decoding and resizing an image
// costs a small fraction of a forward, so a few threads keep the model busy.
int default_workers(int cpus) { return std::max(1, std::min(4, cpus / 4)); }

Shard parse_shard(const std::string& text) {
  try {
    return Shard::parse(text);
  } catch (const UsageError& e) {
    throw UsageError(e.message_template(),
                     e.hint_template() + "; in a Slurm array use --array=1-N");
  }
}

// --dump-inputs DIR: each stimulus's model input as DIR/<id>.npy, float32 [1,C,H,W]. The names
// are fixed up front (in list order) because inputs arrive from the loader's worker threads.
std::function<void(const StimulusSpec&, const at::Tensor&)> dump_inputs_to(
    const std::string& dir, const std::vector<StimulusSpec>& stimuli) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw OutputError(ExitCode::kOutput, "cannot write inputs to '" + dir + "': " + ec.message());
  }
  auto names = std::make_shared<std::map<std::string, std::string>>();
  StimulusFileNamer namer;
  for (const auto& spec : stimuli) {
    (*names)[spec.id] = (std::filesystem::path(dir) / (namer.stem_for(spec.id) + ".npy")).string();
  }
  return [names](const StimulusSpec& spec, const at::Tensor& input) {
    write_npy(names->at(spec.id), input.unsqueeze(0));
  };
}

// Where the records go, by the rules for existing files (--force, --resume).
struct Output {
  std::optional<JsonDocumentWriter> document;
  std::optional<JsonlWriter> lines;
  ResultSink& sink() { return document ? static_cast<ResultSink&>(*document) : *lines; }
};

int run_probe(const RunOptions& options) {
  if (options.device != "cpu") {
    throw UsageError(
        "device '" + options.device + "' is not available: this build of LibTorch is CPU-only",
        "use --device cpu");
  }
  const int64_t threads =
      bounded_integer("--threads", options.threads, 0, 1024, "0 (auto) to 1024");
  const int64_t batch_size =
      bounded_integer("--batch-size", options.batch_size, 1, 65536, "1 to 65536");
  const int64_t workers_given =
      options.workers.empty() ? -1
                              : bounded_integer("--workers", options.workers, -1, 256, "0 to 256");
  const bool to_stdout = options.output.empty() || options.output == "-";
  const bool jsonl = !to_stdout && is_jsonl_path(options.output);
  if (options.resume && options.force) {
    throw UsageError("--resume and --force contradict each other",
                     "--resume continues the output, --force starts it again");
  }
  if ((options.resume || !options.shard.empty()) && !jsonl) {
    throw UsageError(std::string(options.resume ? "--resume" : "--shard") +
                     " needs a JSON Lines output: -o FILE.jsonl");
  }
  Shard shard = options.shard.empty() ? Shard{} : parse_shard(options.shard);
  std::error_code exists_error;
  if (!to_stdout && !options.force && !options.resume &&
      std::filesystem::exists(options.output, exists_error)) {
    throw_output_exists(options.output, jsonl);
  }
  const int cpus = available_cpus();
  // Default: LibTorch's own choice (physical cores, or OMP_NUM_THREADS), but no more threads than
  // CPUs we may use, which LibTorch does not check (a Slurm task or taskset on a big machine).
  if (threads > 0) {
    at::set_num_threads(int(threads));
  } else if (at::get_num_threads() > cpus) {
    at::set_num_threads(cpus);
  }
  const int workers = int(workers_given >= 0 ? workers_given : default_workers(cpus));

  ProbeOptions probe_options;
  probe_options.layers = options.layers;
  probe_options.readout = Readout::parse(options.readout);
  probe_options.truncate = !options.no_truncate;
  probe_options.crop = !options.no_crop;
  probe_options.channels_last = !options.no_channels_last;
  probe_options.batch_size = batch_size;
  probe_options.mode = parse_mode(options.mode);
  if (!options.preprocess.empty()) {
    probe_options.preprocess.preprocess = parse_normalization(options.preprocess);
  }
  if (!options.size.empty()) probe_options.preprocess.size = parse_size(options.size);
  apply_preprocess_options(options.stimulus, probe_options.preprocess);

  StimulusOptions stimulus_options = options.stimulus;
  stimulus_options.stimuli = options.stimuli;
  std::vector<StimulusSpec> stimuli = collect_stimuli(stimulus_options, "uniform:1");
  if (!options.dump_inputs.empty()) {
    probe_options.on_input = dump_inputs_to(options.dump_inputs, stimuli);
  }

  Model model = Model::load(options.model);
  ProgressLine progress(stderr_is_terminal() && !options.quiet);
  Probe probe(model, probe_options, [&](const std::string& message) {
    progress.clear();
    print_warning(message);
  });

  RunControl control;
  control.shard = shard;
  control.skip_bad = options.skip_bad;
  control.workers = workers;
  control.progress = [&](const RunProgress& p) { progress.update(p); };
  control.stop = [] {
    const int signal = interrupt_signal();
    return signal == 0         ? StopRequest::kNone
           : signal == SIGTERM ? StopRequest::kTerminate
                               : StopRequest::kInterrupt;
  };

  Output output;
  if (to_stdout) {
    output.document.emplace(std::cout);
  } else if (!jsonl) {
    output.document.emplace(options.output);
  } else {
    JsonlWriter::Options writer_options;
    writer_options.open =
        options.force ? JsonlWriter::Open::kOverwrite : JsonlWriter::Open::kCreate;
    if (options.resume) {
      ResumePoint point = prepare_resume(options.output, probe.header(stimuli, shard), stimuli,
                                         probe.plan(stimuli, shard).order);
      writer_options.open =
          point.fresh ? JsonlWriter::Open::kOverwrite : JsonlWriter::Open::kAppend;
      control.resume_from = point.done;
    }
    output.lines.emplace(options.output, writer_options);
  }

  install_interrupt_handlers();
  ProbeSummary summary;
  try {
    summary = probe.run(stimuli, output.sink(), control);
  } catch (const Error& e) {
    progress.clear();
    const bool stopped = e.code() == ExitCode::kInterrupted || e.code() == ExitCode::kTerminated;
    if (!stopped && e.code() != ExitCode::kStimulus) throw;
    std::vector<std::string> hints;
    if (!e.hint_template().empty()) hints.push_back(e.hint_template());
    if (jsonl) {
      hints.push_back(
          "the finished batches are kept: rerun the same command with --resume to "
          "continue");
    }
    if (e.code() == ExitCode::kStimulus) {
      hints.push_back("give --skip-bad to record unusable stimuli as errors and go on");
    }
    std::string hint;
    for (const auto& h : hints) hint += (hint.empty() ? "" : "; ") + h;
    throw Error(e.code(), e.message_template(), hint);
  }
  progress.clear();
  std::cerr << format_summary(summary, probe_options.layers.size(),
                              to_stdout ? "stdout" : options.output, shard)
            << std::endl;
  return 0;
}

}  // namespace

CommandAction add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  auto* cmd =
      app.add_subcommand("run", "Probe layers with stimuli and write their responses as JSON");
  cmd->add_option("model", options->model, "TorchScript model file (.pt)")->required();
  cmd->add_option("stimuli", options->stimuli,
                  "Image files, directories, @LIST files or synthetic specs (uniform:V, "
                  "noise:SEED[,dist=normal], grating:ori=DEG,sf=N,..., each with optional @HxW); "
                  "default uniform:1");
  cmd->add_option(
         "-l,--layer", options->layers,
         "Layer to capture (repeatable): NAME, NAME#i for the i-th call, NAME:in for its input")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", options->output,
                  "Output: FILE.json (one JSON document, written when complete) or FILE.jsonl "
                  "(JSON Lines, written batch by batch); default: a JSON document on stdout");
  cmd->add_option("--readout", options->readout, "center | at:Y,X | mean | max | full")
      ->capture_default_str();
  cmd->add_flag("--no-truncate", options->no_truncate,
                "Run the whole forward instead of only what the captures need");
  cmd->add_flag("--no-crop", options->no_crop,
                "Compute point readouts (center, at:Y,X) on the full input instead of the "
                "receptive-field crop");
  cmd->add_flag("--no-channels-last", options->no_channels_last,
                "Compute convolutions in the default contiguous (NCHW) layout instead of "
                "channels-last (same values up to float32 rounding; slower)");
  cmd->add_option("--batch-size", options->batch_size, "Stimuli per forward")
      ->type_name("INT")
      ->capture_default_str();
  cmd->add_option("--threads", options->threads,
                  "LibTorch intra-op threads (0: LibTorch's default, the physical cores or "
                  "OMP_NUM_THREADS, at most the CPUs this process may use)")
      ->type_name("INT");
  cmd->add_option("--device", options->device, "cpu (cuda needs a CUDA build of LibTorch)")
      ->capture_default_str();
  cmd->add_option("--mode", options->mode, "eval | train | as-saved")->capture_default_str();
  cmd->add_option("--preprocess", options->preprocess,
                  "none | imagenet | model (default: model metadata, else none)");
  cmd->add_option("--size", options->size, "Input HxW (default: model metadata, else 224x224)");
  add_stimulus_options(cmd, options->stimulus);
  cmd->add_option("--dump-inputs", options->dump_inputs,
                  "Also write each stimulus's model input (after preprocessing) as DIR/<id>.npy, "
                  "float32 [1,C,H,W]");
  cmd->add_option("--workers", options->workers,
                  "Threads preparing the next batches while the model runs (0: none; "
                  "default: CPUs/4, 1 to 4)")
      ->type_name("INT");
  cmd->add_flag("-q,--quiet", options->quiet, "No progress line (the summary line stays)");
  cmd->add_flag("--resume", options->resume,
                "Continue an interrupted JSON Lines output (-o FILE.jsonl) where it stopped");
  cmd->add_flag("--force", options->force, "Overwrite an existing output");
  cmd->add_flag("--skip-bad", options->skip_bad,
                "Write {\"id\", \"index\", \"error\"} for an unusable stimulus and go on "
                "(default: stop)");
  cmd->add_option("--shard", options->shard,
                  "Probe part K of N (1 <= K <= N) of the batches: those numbered b with "
                  "b % N == K-1; needs -o FILE.jsonl (see 'torchprobe merge')");
  return [options] { return run_probe(*options); };
}

}  // namespace torchprobe::cli
