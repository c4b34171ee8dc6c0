#pragma once
// Decoding only the rows and columns of a JPEG that a crop box needs, with the pixel values
// OpenCV's imdecode(IMREAD_UNCHANGED) gives for them.
//
//   cv::Mat image(height, width, CV_8UC3);  // the file's size, from its header
//   if (!torchprobe::detail::decode_jpeg_window(bytes.data(), bytes.size(), {100, 140, 90, 130},
//   image)) {
//     image = cv::imdecode(...);            // fall back to decoding it whole
//   }
//   // rows 100..139, columns 90..129 of `image` now hold the decoded pixels (BGR)
//
// Receptive-field cropping needs a few dozen pixels of each image; decoding the whole JPEG was
// the largest cost of a cropped run. libjpeg-turbo skips the rows above the window without
// their inverse DCT (jpeg_skip_scanlines), decodes only the window's columns
// (jpeg_crop_scanline) and stops after its last row. Both are exact except at the edges of the
// partial region, where "fancy" chroma upsampling may treat the region's edge as the image's
// (libjpeg-turbo's libjpeg.txt): the window is therefore decoded with a margin of 16 pixels on
// every side (one iMCU of 4:2:0), and tests compare it with OpenCV's whole decode.
//
// Same libjpeg settings as OpenCV's JPEG decoder: default (ISLOW) DCT, fancy upsampling,
// colour as BGR (OpenCV decodes RGB and swaps), grayscale as one channel.
#include <cstddef>
#include <opencv2/core.hpp>

namespace torchprobe::detail {

struct PixelWindow {
  int row0 = 0, row1 = 0;  // rows [row0, row1)
  int col0 = 0, col1 = 0;  // columns [col0, col1)
};

// Decodes `window` (plus the margin) of the JPEG in `data` into the same places of `image`,
// which must have the file's size and CV_8UC3 (colour) or CV_8UC1 (grayscale) type; other
// pixels are left as they are. Returns false, leaving `image` unspecified, when the file does
// not fit these rules or libjpeg reports an error or a warning (corrupt data): the caller then
// decodes it whole with OpenCV, which reports the problem as before. Never throws.
bool decode_jpeg_window(const unsigned char* data, std::size_t size, const PixelWindow& window,
                        cv::Mat& image);

}  // namespace torchprobe::detail
