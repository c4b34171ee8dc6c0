#pragma once
// Continuing an interrupted JSON Lines run (`torchprobe run` resuming a .jsonl output).
//
//   const auto header = probe.header(stimuli, shard);
//   const auto plan = probe.plan(stimuli, shard);
//   torchprobe::ResumePoint point = torchprobe::prepare_resume("out.jsonl", header, stimuli,
//   plan.order); torchprobe::JsonlWriter out("out.jsonl", {point.fresh ?
//   torchprobe::JsonlWriter::Open::kOverwrite
//                                                         :
//                                                         torchprobe::JsonlWriter::Open::kAppend});
//   control.resume_from = point.done;
//   probe.run(stimuli, out, control);
//
// Rules (README "Batch probing at scale"): a missing or empty file, or one whose header line is
// torn, starts afresh. Otherwise the header must equal the one this run writes in every field but
// model.path (model sha256, layers, readout, truncation, preprocessing, mode, batch size, stimulus
// list, shard, torchprobe and LibTorch versions); the complete records must be the first stimuli of
// this run, in order (same "index" and "id"); a torn last line (no '\n': the writer was killed
// mid-line) is cut off. The run then appends the rest, so the file ends up byte for byte what
// an uninterrupted run writes.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {

struct ResumePoint {
  bool fresh = true;       // no header in the file: write one (the file is empty or missing)
  int64_t done = 0;        // complete records in the file: this run's first `done` stimuli
  int64_t bad = 0;         // of them, error records ({"id", "index", "error"})
  uint64_t cut_bytes = 0;  // size of the torn last line cut off (0: none)
};

// Throws ResultsFormatError (exit 60) when the file is not a torchprobe JSON Lines output, its
// header differs or its records are not this run's first stimuli; OutputError when the torn
// line cannot be cut off.
ResumePoint prepare_resume(const std::string& path, const nlohmann::json& header,
                           const std::vector<StimulusSpec>& stimuli,
                           const std::vector<int64_t>& order);

// The first difference between two headers as "'FIELD' is A there and B here" (JSON texts),
// or "" when they agree on every field not listed in `ignored` (dotted paths: "model.path").
std::string header_difference(const nlohmann::json& there, const nlohmann::json& here,
                              const std::vector<std::string>& ignored);

}  // namespace torchprobe
