#pragma once
// torchprobe: capture what a TorchScript model's layers respond to.
//
// Basic usage:
//
//   #include <torchprobe/torchprobe.h>
//
//   auto model = torchprobe::Model::load("googlenet.pt");          // typed errors, see errors.h
//   model.set_mode(torchprobe::Mode::kEval);
//   auto program = torchprobe::CaptureProgram::build(model, {"conv1", "inception3a"}, {});
//   torchprobe::Captures out = program.run(torch::ones({1, 3, 224, 224}));
//   for (const auto& c : out.captures) std::cout << c.name << " " << c.value.sizes() << "\n";
//
// Or a whole probing run, with stimuli, readouts and JSON output, as the CLI does it:
//
//   torchprobe::ProbeOptions options;
//   options.layers = {"conv1"};
//   torchprobe::Probe probe(model, options);
//   torchprobe::JsonDocumentWriter out("responses.json");
//   probe.run({torchprobe::StimulusSpec::parse("noise:7")}, out);
//
// In CMake: find_package(torchprobe REQUIRED) and link torchprobe::core.
#include "torchprobe/capture/capture.h"
#include "torchprobe/capture/readout.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/layers.h"
#include "torchprobe/model/model.h"
#include "torchprobe/output/json_document_writer.h"
#include "torchprobe/output/jsonl_writer.h"
#include "torchprobe/results/merge.h"
#include "torchprobe/run/probe.h"
#include "torchprobe/run/resume.h"
#include "torchprobe/stimuli/stimulus.h"
#include "torchprobe/version.h"
