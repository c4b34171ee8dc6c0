// libFuzzer target: reading torchprobe outputs (JSON documents and JSON Lines) as diff, check and
// merge do. Malformed input must end in a torchprobe::Error (ResultsFormatError), nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "torchprobe/errors.h"
#include "torchprobe/results/results_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    torchprobe::Results results = torchprobe::parse_results(text, "fuzz-input");
    (void)results;
  } catch (const torchprobe::Error&) {
  }
  return 0;
}
