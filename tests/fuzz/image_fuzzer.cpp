// libFuzzer target: decoding an image file with OpenCV and preprocessing it (resize, channel
// conversion), whole and as a region (a JPEG's region is decoded by libjpeg-turbo directly,
// jpeg_window.h). Bad files must end in a StimulusError naming the file; a region must equal
// the same place of the whole image.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "torchprobe/errors.h"
#include "torchprobe/stimuli/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size > (1 << 20)) return 0;
  // The extension only matters for the error message: OpenCV decodes by content.
  static const std::string path =
      "/tmp/torchprobe-fuzz-image-" + std::to_string(::getpid()) + ".png";
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  at::Tensor whole;
  try {
    whole = torchprobe::load_image(path, 3, torchprobe::Size2{32, 40});
  } catch (const torchprobe::Error&) {
  }
  try {
    const torchprobe::PixelRegion region{9, 13, 7, 5};
    auto part = torchprobe::load_image_region(path, 3, torchprobe::Size2{32, 40}, region);
    // The region path must accept what the whole decode accepts, and give the same pixels.
    if (!whole.defined()) std::abort();
    if (!at::equal(
            part.pixels,
            whole.narrow(1, region.top, region.height).narrow(2, region.left, region.width))) {
      std::abort();
    }
  } catch (const torchprobe::Error&) {
  }
  return 0;
}
