// libFuzzer target: the stimulus-spec grammar (single specs and --sweep expansions).
// Any input may be rejected with a torchprobe::Error; anything else (a crash, another exception,
// a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "torchprobe/errors.h"
#include "torchprobe/stimuli/stimulus.h"
#include "torchprobe/stimuli/stimulus_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size > 512) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    torchprobe::StimulusSpec spec = torchprobe::StimulusSpec::parse(text);
    (void)spec;
  } catch (const torchprobe::Error&) {
  }
  try {
    auto sweep = torchprobe::expand_sweep(text);
    (void)sweep;
  } catch (const torchprobe::Error&) {
  }
  return 0;
}
