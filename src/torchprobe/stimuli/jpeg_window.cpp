#include "torchprobe/stimuli/jpeg_window.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>

namespace torchprobe::detail {
namespace {

constexpr int kMargin = 16;  // pixels around the window: one iMCU of 4:2:0 subsampling

// libjpeg reports errors by calling error_exit, which must not return: jump back to the decode
// call. Warnings (corrupt but decodable data) are remembered and make the caller fall back to
// OpenCV, so that such files behave exactly as without the window.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  bool warned;
};

extern "C" void on_error(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<ErrorManager*>(cinfo->err)->jump, 1);
}

extern "C" void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) reinterpret_cast<ErrorManager*>(cinfo->err)->warned = true;
}

// NOTE: holds only trivially destructible objects, as setjmp/longjmp requires.
bool decode(const unsigned char* data, std::size_t size, const PixelWindow& window, cv::Mat& image,
            jpeg_decompress_struct& cinfo, ErrorManager& errors) {
  if (setjmp(errors.jump)) return false;
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) return false;
  const int channels = image.channels();
  if (cinfo.num_components != channels || (channels != 1 && channels != 3) ||
      image.depth() != CV_8U || int(cinfo.image_width) != image.cols ||
      int(cinfo.image_height) != image.rows) {
    return false;
  }
  cinfo.out_color_space = channels == 3 ? JCS_EXT_BGR : JCS_GRAYSCALE;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  if (int(cinfo.output_components) != channels) return false;

  const int row0 = std::max(0, window.row0 - kMargin);
  const int row1 = std::min(image.rows, window.row1 + kMargin);
  JDIMENSION col0 = JDIMENSION(std::max(0, window.col0 - kMargin));
  JDIMENSION width = JDIMENSION(std::min(image.cols, window.col1 + kMargin)) - col0;
  jpeg_crop_scanline(&cinfo, &col0, &width);  // moves col0 left to an iMCU boundary
  if (row0 > 0) jpeg_skip_scanlines(&cinfo, JDIMENSION(row0));
  while (int(cinfo.output_scanline) < row1) {
    JSAMPROW row = image.ptr<unsigned char>(int(cinfo.output_scanline)) +
                   std::size_t(col0) * std::size_t(channels);
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) return false;
  }
  return !errors.warned;
}

}  // namespace

bool decode_jpeg_window(const unsigned char* data, std::size_t size, const PixelWindow& window,
                        cv::Mat& image) {
  if (window.row0 < 0 || window.col0 < 0 || window.row1 > image.rows || window.col1 > image.cols ||
      window.row0 >= window.row1 || window.col0 >= window.col1) {
    return false;
  }
  jpeg_decompress_struct cinfo{};
  ErrorManager errors{};
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = on_error;
  errors.pub.emit_message = on_message;
  errors.warned = false;
  jpeg_create_decompress(&cinfo);
  const bool ok = decode(data, size, window, image, cinfo, errors);
  // Stops wherever decoding is (the rows below the window are never decoded).
  jpeg_destroy_decompress(&cinfo);
  return ok;
}

}  // namespace torchprobe::detail
