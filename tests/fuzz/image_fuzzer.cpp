// libFuzzer target: decoding an image file with OpenCV and preprocessing it (resize, channel
// conversion). Bad files must end in a StimulusError naming the file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "torchprobe/errors.h"
#include "torchprobe/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size > (1 << 20)) return 0;
  // The extension only matters for the error message: OpenCV decodes by content.
  static const std::string path = "/tmp/torchprobe-fuzz-image-" + std::to_string(::getpid()) + ".png";
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  try {
    at::Tensor pixels = torchprobe::load_image(path, 3, torchprobe::Size2{32, 40});
    (void)pixels;
  } catch (const torchprobe::Error&) {
  }
  return 0;
}
