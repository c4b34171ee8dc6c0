#pragma once
// Decoding image files with OpenCV into float pixel tensors.
//
//   at::Tensor rgb = torchprobe::load_image("cat.png", /*channels=*/3, {224, 224});
//
// Rules: read unchanged (EXIF orientation is NOT applied: pixels are used as stored), BGR -> RGB,
// 8-bit / 255, 16-bit / 65535, float as is; grayscale is replicated to 3 channels (kept at 1 for
// 1-channel models); alpha is dropped; resized with bilinear interpolation (cv::INTER_LINEAR)
// after conversion to float.
#include <ATen/ATen.h>

#include <string>

#include "torchprobe/stimulus.h"

namespace torchprobe {

// Throws StimulusError naming the file when it is missing, empty or cannot be decoded.
at::Tensor load_image(const std::string& path, int64_t channels, const Size2& size);

}  // namespace torchprobe
