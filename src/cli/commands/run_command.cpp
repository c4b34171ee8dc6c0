// `torchprobe run MODEL --layer NAME... [STIMULUS...] [-o FILE] [--readout R] ...`
#include <torch/torch.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <sched.h>

#include "cli/commands/command.h"
#include "cli/commands/run_options.h"
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
  std::vector<std::string> stimuli;
  RunCaptureOptions capture;
  RunComputeOptions compute;
  RunOutputOptions output;
  StimulusOptions stimulus;  // --sweep, --recursive, --fit, --mean, --std
};

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

// --dump-inputs DIR: each stimulus's model input as DIR/<stem>.npy, float32 [1,C,H,W], and
// DIR/manifest.json saying which file holds which id (stimulus_files.h). The names are fixed up
// front (in list order) because inputs arrive from the loader's worker threads.
std::function<void(const StimulusSpec&, const at::Tensor&)> dump_inputs_to(
    const std::string& dir, const std::vector<StimulusSpec>& stimuli) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw OutputError(ExitCode::kOutput, "cannot write inputs to '" + dir + "': " + ec.message());
  }
  auto names = std::make_shared<std::map<std::string, std::string>>();
  std::vector<StimulusFile> manifest;
  for (const auto& spec : stimuli) {
    manifest.push_back({spec.id, stimulus_file_stem(spec.id) + ".npy"});
    (*names)[spec.id] = (std::filesystem::path(dir) / manifest.back().file).string();
  }
  write_file_manifest(dir, manifest);
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

// Sets LibTorch's threads (default: its own choice, the physical cores or OMP_NUM_THREADS, but
// no more than the CPUs we may use, which LibTorch does not check: a Slurm task or taskset on a
// big machine) and returns the loader's worker threads.
int apply_compute(const RunComputeOptions::Parsed& compute) {
  const int cpus = available_cpus();
  if (compute.threads > 0) {
    at::set_num_threads(int(compute.threads));
  } else if (at::get_num_threads() > cpus) {
    at::set_num_threads(cpus);
  }
  return int(compute.workers >= 0 ? compute.workers : default_workers(cpus));
}

// The writer for -o, opened by the rules for existing files; a resumed JSON Lines output sets
// where the run starts (control.resume_from).
void open_output(const RunOutputOptions& flags, const RunOutputOptions::Parsed& output_plan,
                 Probe& probe, const std::vector<StimulusSpec>& stimuli, RunControl& control,
                 Output& output) {
  if (output_plan.to_stdout) {
    output.document.emplace(std::cout);
    return;
  }
  if (!output_plan.jsonl) {
    output.document.emplace(flags.output);
    return;
  }
  JsonlWriter::Options writer_options;
  writer_options.open = flags.force ? JsonlWriter::Open::kOverwrite : JsonlWriter::Open::kCreate;
  if (flags.resume) {
    ResumePoint point = prepare_resume(flags.output, probe.header(stimuli, output_plan.shard),
                                       stimuli, probe.plan(stimuli, output_plan.shard).order);
    writer_options.open = point.fresh ? JsonlWriter::Open::kOverwrite : JsonlWriter::Open::kAppend;
    control.resume_from = point.done;
  }
  output.lines.emplace(flags.output, writer_options);
}

// An interrupted run, or one stopped by a bad stimulus, says what to do next: resume a JSON
// Lines output, or skip bad stimuli. Other errors pass unchanged.
[[noreturn]] void rethrow_with_next_steps(const Error& e, bool jsonl) {
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

StopRequest stop_requested() {
  const int signal = interrupt_signal();
  return signal == 0         ? StopRequest::kNone
         : signal == SIGTERM ? StopRequest::kTerminate
                             : StopRequest::kInterrupt;
}

int run_probe(const RunOptions& options) {
  const RunComputeOptions::Parsed compute = options.compute.parse();
  const RunOutputOptions::Parsed output_plan = options.output.parse();
  const int workers = apply_compute(compute);
  ProbeOptions probe_options = options.capture.parse(compute.batch_size, options.stimulus);

  StimulusOptions stimulus_options = options.stimulus;
  stimulus_options.stimuli = options.stimuli;
  std::vector<StimulusSpec> stimuli = collect_stimuli(stimulus_options, "uniform:1");
  if (!options.output.dump_inputs.empty()) {
    probe_options.on_input = dump_inputs_to(options.output.dump_inputs, stimuli);
  }

  Model model = Model::load(options.model);
  ProgressLine progress(stderr_is_terminal() && !options.output.quiet);
  Probe probe(model, probe_options, [&](const std::string& message) {
    progress.clear();
    print_warning(message);
  });
  RunControl control;
  control.shard = output_plan.shard;
  control.skip_bad = options.output.skip_bad;
  control.workers = workers;
  control.progress = [&](const RunProgress& p) { progress.update(p); };
  control.stop = stop_requested;
  Output output;
  open_output(options.output, output_plan, probe, stimuli, control, output);

  install_interrupt_handlers();
  ProbeSummary summary;
  try {
    summary = probe.run(stimuli, output.sink(), control);
  } catch (const Error& e) {
    progress.clear();
    rethrow_with_next_steps(e, output_plan.jsonl);
  }
  progress.clear();
  std::cerr << format_summary(summary, probe_options.layers.size(),
                              output_plan.to_stdout ? "stdout" : options.output.output,
                              output_plan.shard)
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
  options->capture.add_layers(cmd);
  options->output.add_output(cmd);
  options->capture.add(cmd);
  cmd->option_defaults()->group("Stimuli and preprocessing");
  add_stimulus_options(cmd, options->stimulus);
  options->compute.add(cmd);
  options->output.add(cmd);
  return [options] { return run_probe(*options); };
}

}  // namespace torchprobe::cli
