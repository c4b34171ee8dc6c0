// libFuzzer target: `run --resume` reading an existing JSON Lines output and matching its header
// and records with the new run's (prepare_resume). The input is the new run's header line and
// the existing file, joined by a 0 byte (fuzz_files.h). The new run probes the seeds' four
// stimuli one per batch, all of them or, when its header says shard K/N, every N-th from K-1.
// Malformed files must end in a torchprobe::Error, nothing else.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_files.h"
#include "torchprobe/detail/json_depth.h"
#include "torchprobe/errors.h"
#include "torchprobe/run/resume.h"

namespace {

const std::vector<torchprobe::StimulusSpec>& stimuli() {
  static const std::vector<torchprobe::StimulusSpec> specs = [] {
    std::vector<torchprobe::StimulusSpec> out;
    for (const char* text : {"noise:1", "noise:2", "noise:3", "uniform:0.5"}) {
      out.push_back(torchprobe::StimulusSpec::parse(text));
    }
    return out;
  }();
  return specs;
}

int64_t integer_or_zero(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// The stimuli of shard K/N, one per batch, as the new run's header names it.
std::vector<int64_t> order_of(const nlohmann::json& header) {
  int64_t index = 1, count = 1;
  auto shard = header.find("shard");
  if (shard != header.end() && shard->is_object()) {
    index = integer_or_zero(*shard, "index");
    count = integer_or_zero(*shard, "count");
  }
  if (count < 1 || count > 4 || index < 1 || index > count) index = count = 1;
  std::vector<int64_t> order;
  for (int64_t i = index - 1; i < int64_t(stimuli().size()); i += count) order.push_back(i);
  return order;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  namespace fuzz = torchprobe::fuzz;
  static const std::string path = fuzz::scratch_path("resume", "out.jsonl");
  auto [header_text, file_text] = torchprobe::fuzz::split_at_nul(data, size);
  // The new run's header is torchprobe's own in real use: an object of a few levels.
  if (!torchprobe::json_depth_within(header_text, torchprobe::kMaxJsonDepth)) return 0;
  const nlohmann::json header = nlohmann::json::parse(header_text, nullptr, false);
  if (!header.is_object()) return 0;
  fuzz::write_file(path, file_text);
  try {
    torchprobe::prepare_resume(path, header, stimuli(), order_of(header));
  } catch (const torchprobe::Error&) {
  }
  return 0;
}
