// torchprobe_compute_bench: compute-only throughput of a capture program on preloaded tensors
// (no decoding, no preprocessing, no output), for scripts/bench/run.sh.
//
//   torchprobe_compute_bench googlenet.pt --layer inception3a [--layer NAME ...]
//       [--batch-size 16] [--threads 2] [--seconds 3] [--min-batches 5] [--no-crop]
//       [--no-channels-last]
//   {"batch_size":16,"batches":41,"crop":{"used":true,"box":[...],...},"images_per_s":212.4,...}
//
// Builds the program once (CaptureProgram::build, truncated) and, unless --no-crop, plans the
// receptive-field crop for the centre readout (plan_crop, receptive_field.h); runs two
// warm-up batches, then batches of random normal [B,3,H,W] inputs (H, W from the model's
// metadata, else 224) cycling through 4 preloaded tensors, each cropped when the plan is active,
// then reads the centre of every capture for every stimulus, until both --seconds and
// --min-batches are reached. Prints one JSON line on stdout; "crop" is the plan's to_json()
// ({"used": false, "reason": "disabled (--no-crop)"} with --no-crop). Convolutions run in
// channels-last layout unless --no-channels-last (Model::set_channels_last), as in `run`.
//
// Exit codes: 0 success, 2 bad arguments, 1 anything the library throws.
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/heap_reuse.h"
#include "torchprobe/capture/capture.h"
#include "torchprobe/capture/readout.h"
#include "torchprobe/capture/receptive_field.h"
#include "torchprobe/model/model.h"

namespace {

struct Options {
  std::string model;
  std::vector<std::string> layers;
  int64_t batch_size = 16;
  int threads = 2;
  double seconds = 3.0;
  int64_t min_batches = 5;
  bool crop = true;
  bool channels_last = true;
};

const char* kUsage =
    "usage: torchprobe_compute_bench MODEL --layer NAME [--layer NAME ...] [--batch-size N]\n"
    "       [--threads N] [--seconds S] [--min-batches N] [--no-crop] [--no-channels-last]\n";

Options parse(int argc, char** argv) {
  Options o;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw std::invalid_argument(std::string("missing value after ") + argv[i]);
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--layer" || arg == "-l") {
      o.layers.push_back(value(i));
    } else if (arg == "--batch-size") {
      o.batch_size = std::stoll(value(i));
    } else if (arg == "--threads") {
      o.threads = std::stoi(value(i));
    } else if (arg == "--seconds") {
      o.seconds = std::stod(value(i));
    } else if (arg == "--min-batches") {
      o.min_batches = std::stoll(value(i));
    } else if (arg == "--no-crop") {
      o.crop = false;
    } else if (arg == "--no-channels-last") {
      o.channels_last = false;
    } else if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (!arg.empty() && arg[0] == '-') {
      throw std::invalid_argument("unknown option '" + arg + "'");
    } else if (o.model.empty()) {
      o.model = arg;
    } else {
      throw std::invalid_argument("unexpected argument '" + arg + "'");
    }
  }
  if (o.model.empty() || o.layers.empty()) throw std::invalid_argument("need MODEL and --layer");
  if (o.batch_size < 1 || o.threads < 1 || o.min_batches < 1 || !(o.seconds >= 0)) {
    throw std::invalid_argument(
        "--batch-size, --threads, --min-batches must be >= 1, --seconds >= 0");
  }
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int bench(const Options& o) {
  at::set_num_threads(o.threads);
  torchprobe::keep_freed_memory_for_reuse();  // as the CLI does
  const auto load_start = std::chrono::steady_clock::now();
  auto model = torchprobe::Model::load(o.model);
  const double load_seconds = seconds_since(load_start);
  model.set_mode(torchprobe::Mode::kEval);
  model.set_channels_last(o.channels_last);
  std::vector<int64_t> chw{3, 224, 224};
  if (auto size = model.input_size()) chw = *size;

  const auto build_start = std::chrono::steady_clock::now();
  const auto program = torchprobe::CaptureProgram::build(model, o.layers, {});
  const double program_seconds = seconds_since(build_start);
  const auto readout = torchprobe::Readout::parse("center");
  torchprobe::CropPlan plan;
  plan.reason = "disabled (--no-crop)";
  plan.input = {chw[1], chw[2]};
  if (o.crop) plan = torchprobe::plan_crop(program, readout, chw[0], {chw[1], chw[2]});
  const double build_seconds = seconds_since(build_start);

  torch::manual_seed(0);
  std::vector<at::Tensor> inputs;
  for (int i = 0; i < 4; ++i)
    inputs.push_back(torch::randn({o.batch_size, chw[0], chw[1], chw[2]}));
  auto step = [&](const at::Tensor& batch) {
    auto captures = program.run(plan.active ? plan.crop(batch) : batch);
    for (const auto& c : captures.captures) {
      for (int64_t n = 0; n < batch.size(0); ++n) {
        auto response = plan.active ? plan.read(c, n) : readout.apply(c.value, n, c.name);
        (void)response;
      }
    }
  };
  for (int i = 0; i < 2; ++i) step(inputs[i]);  // warm-up: kernel selection, allocator

  int64_t batches = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (batches < o.min_batches || elapsed < o.seconds) {
    step(inputs[batches % inputs.size()]);
    ++batches;
    elapsed = seconds_since(start);
  }

  nlohmann::json out = {{"model", o.model},
                        {"layers", o.layers},
                        {"batch_size", o.batch_size},
                        {"threads", o.threads},
                        {"crop", plan.to_json()},
                        {"truncated", program.truncated()},
                        {"channels_last", o.channels_last},
                        {"load_seconds", load_seconds},
                        {"build_seconds", build_seconds},
                        {"plan_seconds", build_seconds - program_seconds},
                        {"batches", batches},
                        {"seconds", elapsed},
                        {"images_per_s", double(batches * o.batch_size) / elapsed}};
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    return bench(options);
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
  }
  return 1;
}
