#include "torchprobe/image.h"

#include <sys/stat.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

[[noreturn]] void reject(const std::string& path, const std::string& why) {
  throw StimulusError("cannot use image '" + path + "': " + why);
}

}  // namespace

at::Tensor load_image(const std::string& path, int64_t channels, const Size2& size) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) reject(path, "no such file");
  if (S_ISDIR(info.st_mode)) reject(path, "is a directory");
  if (info.st_size == 0) reject(path, "the file is empty (0 bytes)");
  cv::Mat raw;
  try {
    raw = cv::imread(path, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    reject(path, std::string("OpenCV could not decode it: ") + e.what());
  }
  if (raw.empty()) reject(path, "not a readable image (unsupported format or corrupt file)");

  double scale = 1.0;
  switch (raw.depth()) {
    case CV_8U: scale = 1.0 / 255.0; break;
    case CV_16U: scale = 1.0 / 65535.0; break;
    case CV_32F: scale = 1.0; break;
    default: reject(path, "unsupported pixel depth (expected 8-bit, 16-bit or float)");
  }
  cv::Mat pixels;
  raw.convertTo(pixels, CV_32F, scale);

  cv::Mat converted;
  switch (pixels.channels()) {
    case 1:
      if (channels == 1) converted = pixels;
      else cv::cvtColor(pixels, converted, cv::COLOR_GRAY2RGB);
      break;
    case 3:
      cv::cvtColor(pixels, converted, channels == 1 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(pixels, converted, channels == 1 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGRA2RGB);
      break;
    default:
      reject(path, "unsupported number of channels " + std::to_string(pixels.channels()));
  }
  cv::Mat resized;
  if (converted.rows == size.height && converted.cols == size.width) {
    resized = converted;
  } else {
    cv::resize(converted, resized, cv::Size(int(size.width), int(size.height)), 0, 0,
               cv::INTER_LINEAR);
  }
  if (!resized.isContinuous()) resized = resized.clone();
  at::Tensor hwc = at::from_blob(resized.data, {resized.rows, resized.cols, resized.channels()},
                                 at::kFloat);
  return hwc.permute({2, 0, 1}).contiguous();  // copies out of the cv::Mat
}

}  // namespace torchprobe
