// libFuzzer target: model archives through Model::load (a temporary file, as the CLI gives it):
// torchprobe's checks of the file and its zip structure, then LibTorch's loader. Malformed
// archives must end in a torchprobe::Error (ModelLoadError), nothing else.
// NOTE: LibTorch is not instrumented; what ASan sees is torchprobe's code and allocations.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_files.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  namespace fuzz = torchprobe::fuzz;
  static const std::string path = fuzz::scratch_path("model_load", "model.pt");
  fuzz::write_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    torchprobe::Model model = torchprobe::Model::load(path);
    (void)model;
  } catch (const torchprobe::Error&) {
  }
  return 0;
}
