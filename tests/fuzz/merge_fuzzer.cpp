// libFuzzer target: `torchprobe merge` over two parts whose headers and records are fuzzed (the
// input is the two part texts joined by a 0 byte; see fuzz_files.h). The parts go through
// merge_results() exactly as the CLI's: files on disk, an atomic output. An input of even size is
// merged to JSON Lines, of odd size to a JSON document, so that both writers are reached.
// Malformed parts must end in a torchprobe::Error, nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_files.h"
#include "torchprobe/errors.h"
#include "torchprobe/results/merge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  namespace fuzz = torchprobe::fuzz;
  static const std::string first = fuzz::scratch_path("merge", "part-1.jsonl");
  static const std::string second = fuzz::scratch_path("merge", "part-2.jsonl");
  static const std::string lines = fuzz::scratch_path("merge", "merged.jsonl");
  static const std::string document = fuzz::scratch_path("merge", "merged.json");
  auto [first_text, second_text] = fuzz::split_at_nul(data, size);
  fuzz::write_file(first, first_text);
  fuzz::write_file(second, second_text);
  torchprobe::MergeOptions options;
  options.force = true;
  try {
    torchprobe::merge_results({first, second}, size % 2 == 0 ? lines : document, options);
  } catch (const torchprobe::Error&) {
  }
  return 0;
}
