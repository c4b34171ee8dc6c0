#include "torchprobe/stimuli/image.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <sys/stat.h>
#include <utility>
#include <vector>

#include "torchprobe/detail/sha256.h"
#include "torchprobe/errors.h"
#include "torchprobe/stimuli/jpeg_window.h"

namespace torchprobe {
namespace {

[[noreturn]] void reject(const std::string& path, const std::string& why,
                         const std::string& hint = "") {
  throw StimulusError("cannot use image '" + path + "': " + why, hint);
}

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) reject(path, std::string("cannot open it: ") + std::strerror(errno));
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (in.bad()) reject(path, "read error");
  return bytes;
}

bool starts_with(const std::vector<unsigned char>& b, const char* magic, std::size_t n) {
  return b.size() >= n && std::memcmp(b.data(), magic, n) == 0;
}

// Whether a JPEG stream reaches its end-of-image marker (FF D9). Walks the marker segments by
// their lengths (so an EXIF thumbnail's own FF D9 inside APP1 does not count) and scans each
// scan's entropy-coded data, where FF is followed by 00 (stuffing), D0-D7 (restart) or FF (fill).
// NOTE: libjpeg decodes a JPEG that is cut short, fills the rest with grey and only warns; the
// warning never reaches OpenCV's caller, hence this check. Bytes after FF D9 are allowed.
bool jpeg_has_end_marker(const std::vector<unsigned char>& b) {
  const std::size_t n = b.size();
  std::size_t pos = 2;  // after FF D8
  while (pos < n) {
    if (b[pos] != 0xFF) {  // garbage between segments: libjpeg skips it too
      ++pos;
      continue;
    }
    while (pos < n && b[pos] == 0xFF) ++pos;
    if (pos >= n) return false;
    const unsigned char marker = b[pos++];
    if (marker == 0xD9) return true;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (pos + 2 > n) return false;
    const std::size_t length = (std::size_t(b[pos]) << 8) | b[pos + 1];
    if (length < 2) return false;
    pos += length;
    if (marker != 0xDA) continue;
    // Entropy-coded data until the next marker.
    while (pos + 1 < n) {
      if (b[pos] == 0xFF) {
        const unsigned char next = b[pos + 1];
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
          pos += 2;
          continue;
        }
        if (next != 0xFF) break;
      }
      ++pos;
    }
    if (pos + 1 >= n) return false;
  }
  return false;
}

// Whether a PNG stream reaches its IEND chunk, walking the chunks by their lengths.
// NOTE: checked before decoding so that a cut PNG gets a clear message (and libpng does not
// print an error message of its own).
bool png_has_end_chunk(const std::vector<unsigned char>& b) {
  std::size_t pos = 8;  // after the signature
  while (pos + 8 <= b.size()) {
    const std::size_t length = (std::size_t(b[pos]) << 24) | (std::size_t(b[pos + 1]) << 16) |
                               (std::size_t(b[pos + 2]) << 8) | b[pos + 3];
    if (std::memcmp(b.data() + pos + 4, "IEND", 4) == 0) return true;
    pos += 12 + length;  // length, type, data, CRC
  }
  return false;
}

struct DeclaredFrame {
  std::size_t width = 0, height = 0;
  int components = 0;  // JPEG only
};

// The width and height a JPEG (its SOF segment) or PNG (IHDR) header declares, or zeros.
DeclaredFrame declared_frame(const std::vector<unsigned char>& b) {
  const std::size_t n = b.size();
  if (starts_with(b, "\x89PNG\r\n\x1a\n", 8) && n >= 24 &&
      std::memcmp(b.data() + 12, "IHDR", 4) == 0) {
    auto be32 = [&](std::size_t i) {
      return (std::size_t(b[i]) << 24) | (std::size_t(b[i + 1]) << 16) |
             (std::size_t(b[i + 2]) << 8) | b[i + 3];
    };
    return {be32(16), be32(20), 0};
  }
  if (!starts_with(b, "\xFF\xD8\xFF", 3)) return {};
  std::size_t pos = 2;
  while (pos + 4 <= n) {
    if (b[pos] != 0xFF) return {};
    while (pos < n && b[pos] == 0xFF) ++pos;
    if (pos + 3 > n) return {};
    const unsigned char marker = b[pos++];
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length
    const std::size_t length = (std::size_t(b[pos]) << 8) | b[pos + 1];
    const bool frame =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame && pos + 8 <= n) {
      return {(std::size_t(b[pos + 5]) << 8) | b[pos + 6],
              (std::size_t(b[pos + 3]) << 8) | b[pos + 4], int(b[pos + 7])};
    }
    if (marker == 0xDA || length < 2) return {};
    pos += length;
  }
  return {};
}

std::string unsupported_format_name(const std::vector<unsigned char>& b) {
  if (starts_with(b, "GIF8", 4)) return "GIF";
  if (b.size() >= 12 && std::memcmp(b.data() + 4, "ftyp", 4) == 0) return "HEIF/AVIF";
  if (starts_with(b, "<svg", 4) || starts_with(b, "<?xml", 5)) return "SVG/XML";
  if (starts_with(b, "%PDF", 4)) return "PDF";
  return "";
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Round half to even, as Python's round() (and so torchvision's center_crop).
int64_t round_half_even(double v) { return int64_t(std::nearbyint(v)); }

// An image file's bytes and the frame its header declares.
struct ImageFile {
  std::vector<unsigned char> bytes;
  DeclaredFrame frame;
};

// The file, after the checks above that need no decoder: missing, empty, truncated,
// decompression bombs.
ImageFile read_image_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) reject(path, "no such file");
  if (S_ISDIR(info.st_mode)) reject(path, "is a directory");
  if (!S_ISREG(info.st_mode)) reject(path, "not a regular file");
  if (info.st_size == 0) reject(path, "the file is empty (0 bytes)");
  std::vector<unsigned char> bytes = read_bytes(path);
  if (bytes.empty()) reject(path, "the file is empty (0 bytes)");
  if (starts_with(bytes, "\xFF\xD8\xFF", 3) && !jpeg_has_end_marker(bytes)) {
    reject(path, "truncated JPEG: the data ends before the end-of-image marker (FF D9)",
           "the file was probably cut short while copying or downloading");
  }
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n", 8) && !png_has_end_chunk(bytes)) {
    reject(path, "truncated PNG: the data ends before the IEND chunk",
           "the file was probably cut short while copying or downloading");
  }
  // NOTE: a few hundred bytes of JPEG can declare 40000x20000 pixels: refuse such a
  // "decompression bomb" before OpenCV allocates gigabytes for it (OpenCV's own limit, the
  // OPENCV_IO_MAX_IMAGE_PIXELS environment variable, is 2^30 pixels).
  const DeclaredFrame frame = declared_frame(bytes);
  if (frame.width * frame.height > kMaxImagePixels) {
    reject(path,
           "its header declares " + std::to_string(frame.width) + "x" +
               std::to_string(frame.height) + " pixels, more than the " +
               std::to_string(kMaxImagePixels) + " torchprobe decodes",
           "downscale the image first (e.g. with ImageMagick's convert -resize)");
  }
  return {std::move(bytes), frame};
}

cv::Mat decode_with_opencv(const std::string& path, std::vector<unsigned char>& bytes) {
  cv::Mat raw;
  try {
    raw = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8U, bytes.data()), cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    reject(path, std::string("OpenCV could not decode it: ") + e.what());
  }
  if (raw.empty()) {
    std::string format = unsupported_format_name(bytes);
    if (!format.empty()) {
      reject(path, "unsupported image format " + format + " (OpenCV cannot read it)",
             "convert it to PNG");
    }
    if (!cv::haveImageReader(path)) {
      reject(path, "not an image: its contents match no image format OpenCV reads");
    }
    reject(path, "corrupt image data: OpenCV's decoder failed on it");
  }
  return raw;
}

// Bilinear taps of one axis: output sample i reads src[i0] * (1 - w) + src[i1] * w.
struct Taps {
  std::vector<int> i0, i1;
  std::vector<double> w;
};

// The taps of resizing m samples to n, keeping outputs [first, first + count).
Taps bilinear_taps(int64_t m, int64_t n, int64_t first, int64_t count) {
  Taps t;
  const double scale = double(m) / double(n);
  for (int64_t i = first; i < first + count; ++i) {
    const double x = (double(i) + 0.5) * scale - 0.5;
    const double fl = std::floor(x);
    double w = x - fl;
    int64_t x0 = int64_t(fl);
    if (x0 < 0) x0 = 0, w = 0;
    if (x0 >= m - 1) x0 = m - 1, w = 0;
    t.i0.push_back(int(x0));
    t.i1.push_back(int(std::min(x0 + 1, m - 1)));
    t.w.push_back(w);
  }
  return t;
}

// Where each output pixel of `region` of the target image reads the source image.
struct Sampling {
  Taps ty, tx;
};

Sampling sampling_for(int64_t rows, int64_t cols, const Resize& resize, const PixelRegion& region) {
  // Output pixel (y, x) of the region is pixel (top + y, left + x) of the whole target image:
  // the same taps, so the same values.
  const Size2 target = resize.size;
  if (resize.fit == Fit::kStretch) {
    return {bilinear_taps(rows, target.height, region.top, region.height),
            bilinear_taps(cols, target.width, region.left, region.width)};
  }
  CropBox box = crop_box({rows, cols}, target, resize.crop_pct);
  return {bilinear_taps(rows, box.resized.height, box.top + region.top, region.height),
          bilinear_taps(cols, box.resized.width, box.left + region.left, region.width)};
}

// The source pixels a sampling reads.
detail::PixelWindow window_of(const Sampling& s) {
  return {*std::min_element(s.ty.i0.begin(), s.ty.i0.end()),
          *std::max_element(s.ty.i1.begin(), s.ty.i1.end()) + 1,
          *std::min_element(s.tx.i0.begin(), s.tx.i0.end()),
          *std::max_element(s.tx.i1.begin(), s.tx.i1.end()) + 1};
}

// Whether decode_jpeg_part can decode a JPEG of this declared frame.
bool partly_decodable(const DeclaredFrame& frame) {
  return frame.width > 0 && frame.height > 0 && (frame.components == 1 || frame.components == 3);
}

// Only the source pixels `window` (of an image of the frame's size) of a JPEG (jpeg_window.h),
// in an image of the file's size whose other pixels are not set; empty when that cannot be done
// exactly (the caller then decodes the whole file with OpenCV).
cv::Mat decode_jpeg_part(const ImageFile& file, const detail::PixelWindow& window) {
  const DeclaredFrame& frame = file.frame;
  cv::Mat image(int(frame.height), int(frame.width), frame.components == 3 ? CV_8UC3 : CV_8UC1);
  if (!detail::decode_jpeg_window(file.bytes.data(), file.bytes.size(), window, image)) return {};
  return image;
}

// Output channel c = sum_k mix[c][k] * stored channel k (stored order BGR(A), gray(+alpha)).
std::vector<std::vector<double>> channel_mix(const std::string& path, int stored,
                                             int64_t channels) {
  if (channels != 1 && channels != 3) {
    reject(path, "the model takes " + std::to_string(channels) +
                     " input channels; images give 1 (grayscale) or 3 (RGB)");
  }
  std::vector<std::vector<double>> mix(std::size_t(channels),
                                       std::vector<double>(std::size_t(stored), 0.0));
  if (stored == 1 || stored == 2) {  // gray (+ alpha, dropped)
    for (auto& row : mix) row[0] = 1.0;
  } else if (stored == 3 || stored == 4) {  // BGR (+ alpha, dropped)
    if (channels == 1) {
      mix[0][2] = 0.299, mix[0][1] = 0.587, mix[0][0] = 0.114;
    } else {
      mix[0][2] = 1.0, mix[1][1] = 1.0, mix[2][0] = 1.0;
    }
  } else {
    reject(path, "unsupported number of channels " + std::to_string(stored));
  }
  return mix;
}

// NOTE: not cv::resize + cv::cvtColor: OpenCV computes INTER_LINEAR's sample positions in
// float32, which puts errors of up to ~1e-5 into the weights for large images. Here everything
// after decoding (resizing, channel mixing, scaling) is double; the caller rounds once.
template <typename T>
void resample(const cv::Mat& raw, const Sampling& sampling, const detail::PixelWindow& window,
              const std::vector<std::vector<double>>& mix, double scale, double* out) {
  const Taps& ty = sampling.ty;
  const Taps& tx = sampling.tx;
  const std::size_t k = std::size_t(raw.channels());
  const std::size_t h = ty.w.size(), w = tx.w.size(), c = mix.size();
  if (h == 0 || w == 0) return;
  // Only the source columns the output reads are blended (a region reads a few of them).
  const std::size_t first = std::size_t(window.col0);
  const std::size_t row_len = (std::size_t(window.col1) - first) * k;
  std::vector<double> row(row_len);
  std::vector<double> v(k, 0.0);
  for (std::size_t y = 0; y < h; ++y) {
    const T* a = raw.ptr<T>(ty.i0[y]) + first * k;
    const T* b = raw.ptr<T>(ty.i1[y]) + first * k;
    const double wy = ty.w[y];
    for (std::size_t i = 0; i < row_len; ++i)
      row[i] = (1.0 - wy) * double(a[i]) + wy * double(b[i]);
    for (std::size_t x = 0; x < w; ++x) {
      const std::size_t p0 = (std::size_t(tx.i0[x]) - first) * k;
      const std::size_t p1 = (std::size_t(tx.i1[x]) - first) * k;
      const double wx = tx.w[x];
      for (std::size_t j = 0; j < k; ++j) v[j] = (1.0 - wx) * row[p0 + j] + wx * row[p1 + j];
      for (std::size_t ch = 0; ch < c; ++ch) {
        double sum = 0;
        for (std::size_t j = 0; j < k; ++j) sum += mix[ch][j] * v[j];
        out[(ch * h + y) * w + x] = sum * scale;
      }
    }
  }
}

}  // namespace

CropBox crop_box(const Size2& image, const Size2& target, double crop_pct) {
  if (!(crop_pct > 0 && crop_pct <= 1)) {
    throw UsageError("bad crop_pct " + format_number(crop_pct) + ": expected a value in (0, 1]");
  }
  const int64_t rh = round_half_even(double(target.height) / crop_pct);
  const int64_t rw = round_half_even(double(target.width) / crop_pct);
  const int64_t h = image.height, w = image.width;
  CropBox box;
  if (rh * w >= rw * h) {
    box.resized = {rh, std::max(target.width, rh * w / h)};
  } else {
    box.resized = {std::max(target.height, rw * h / w), rw};
  }
  box.top = round_half_even(double(box.resized.height - target.height) / 2.0);
  box.left = round_half_even(double(box.resized.width - target.width) / 2.0);
  return box;
}

bool has_image_extension(const std::string& path) {
  static const char* const kExtensions[] = {
      ".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".jp2", ".pbm",
      ".pgm", ".ppm", ".pxm",  ".pnm", ".pfm", ".sr",  ".ras", ".exr",  ".hdr",  ".pic"};
  auto dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return false;
  std::string ext = lower(path.substr(dot));
  for (const char* e : kExtensions) {
    if (ext == e) return true;
  }
  return false;
}

LoadedImage load_image_region(const std::string& path, int64_t channels, const Resize& resize,
                              const PixelRegion& region) {
  const Size2 target = resize.size;
  if (region.top < 0 || region.left < 0 || region.height < 1 || region.width < 1 ||
      region.top + region.height > target.height || region.left + region.width > target.width) {
    throw Error(ExitCode::kInternal, "pixel region outside the " + to_string(target) + " image");
  }
  LoadedImage image;
  ImageFile file = read_image_file(path);
  image.sha256 = sha256_bytes(file.bytes.data(), file.bytes.size());
  // A part of a JPEG (receptive-field cropping) decodes only what the part reads. The sampling
  // depends on the source's size only, so the one for the declared frame serves the decoded image.
  cv::Mat raw;
  std::optional<Sampling> sampling;
  const bool part = region.height < target.height || region.width < target.width;
  if (part && starts_with(file.bytes, "\xFF\xD8\xFF", 3) && partly_decodable(file.frame)) {
    sampling = sampling_for(int64_t(file.frame.height), int64_t(file.frame.width), resize, region);
    raw = decode_jpeg_part(file, window_of(*sampling));
  }
  if (raw.empty()) raw = decode_with_opencv(path, file.bytes);
  if (!raw.isContinuous()) raw = raw.clone();
  double scale = 1.0;
  switch (raw.depth()) {
    case CV_8U:
      scale = 1.0 / 255.0;
      break;
    case CV_16U:
      scale = 1.0 / 65535.0;
      break;
    case CV_32F:
      scale = 1.0;
      break;
    default:
      reject(path, "unsupported pixel depth (expected 8-bit, 16-bit or 32-bit float)");
  }
  const auto mix = channel_mix(path, raw.channels(), channels);
  if (!sampling || int64_t(raw.rows) != int64_t(file.frame.height) ||
      int64_t(raw.cols) != int64_t(file.frame.width)) {
    sampling = sampling_for(raw.rows, raw.cols, resize, region);
  }
  const detail::PixelWindow window = window_of(*sampling);
  at::Tensor out = at::empty({channels, region.height, region.width}, at::kDouble);
  double* data = out.data_ptr<double>();
  switch (raw.depth()) {
    case CV_8U:
      resample<uint8_t>(raw, *sampling, window, mix, scale, data);
      break;
    case CV_16U:
      resample<uint16_t>(raw, *sampling, window, mix, scale, data);
      break;
    default:
      resample<float>(raw, *sampling, window, mix, scale, data);
      break;
  }
  image.pixels = out.to(at::kFloat);
  return image;
}

at::Tensor load_image(const std::string& path, int64_t channels, const Resize& resize) {
  return load_image_region(path, channels, resize, PixelRegion::whole(resize.size)).pixels;
}

at::Tensor load_image(const std::string& path, int64_t channels, const Size2& size) {
  return load_image(path, channels, Resize(size));
}

}  // namespace torchprobe
