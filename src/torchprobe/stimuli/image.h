#pragma once
// Decoding image files with OpenCV into float pixel tensors at the target size.
//
//   at::Tensor rgb = torchprobe::load_image("cat.jpg", /*channels=*/3, {{224, 224},
//   torchprobe::Fit::kCrop});
//   // float32 [3, 224, 224], 0 = black, 1 = white
//
// Decoding: OpenCV imdecode with IMREAD_UNCHANGED. EXIF orientation is NOT applied: pixels are
// used as stored in the file (what IMREAD_UNCHANGED gives). load_image_region decodes only the
// part of a JPEG its region reads, with libjpeg-turbo and the same pixel values
// (jpeg_window.h); other formats are decoded whole. Values: 8-bit / 255, 16-bit / 65535,
// 32-bit float as is (other depths are refused). Channels: BGR -> RGB; grayscale is replicated
// to 3 channels (kept as is for 1-channel models); alpha is dropped, not composited (the colour
// values are used as stored, whatever their transparency); for 1-channel models colour images
// become 0.299 R + 0.587 G + 0.114 B (the weights of OpenCV's COLOR_BGR2GRAY).
// Everything after decoding (scaling, channels, resizing) is computed in double and rounded once
// to float32, so that a float64 numpy implementation of these rules agrees to half a
// float32 ulp (tests/reference/preprocess_reference.py).
//
// Resizing: bilinear with pixel centres aligned, the convention of OpenCV's INTER_LINEAR and
// torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False). For
// each axis, output sample i (of n, from m) reads x = (i + 0.5) * m / n - 0.5, x0 = floor(x),
// w = x - x0; x0 < 0 gives x0 = 0, w = 0; x0 >= m - 1 gives x0 = m - 1, w = 0; x1 = min(x0 + 1,
// m - 1). Rows are blended first: r = (1 - wy) * src[y0] + wy * src[y1], then columns:
// out = (1 - wx) * r[x0] + wx * r[x1]. NOTE: there is no
// antialiasing, unlike torchvision's transforms on PIL images, so strong downscaling aliases. An
// image already at the size it is resized to is copied unchanged (every w is 0).
//   stretch: resize to H x W.
//   crop:    (torchvision's evaluation recipe Resize(round(S/0.875)) + CenterCrop(S), extended
//            to H x W targets) with p = crop_pct and round() = round half to even:
//            RH = round(H / p), RW = round(W / p); for an image h x w,
//            if RH * w >= RW * h: h' = RH, w' = floor(RH * w / h)   (height decides)
//            else:                w' = RW, h' = floor(RW * h / w);
//            resize to h' x w', then keep rows top = round((h' - H) / 2) .. top + H - 1 and
//            columns left = round((w' - W) / 2) .. left + W - 1 (only those are computed, with
//            the sample positions of the full h' x w' resize).
//            For a square target this is exactly torchvision's Resize(round(S/p)) (shorter side
//            to round(S/p), longer side int(round(S/p) * long / short)) then CenterCrop(S).
//
// Refused, with StimulusError (exit code 30) naming the file: missing, directory, empty
// (0 bytes), a JPEG without its end-of-image marker (cut short: libjpeg would fill the missing
// part with grey and only warn), a PNG without its IEND chunk, contents no OpenCV decoder
// recognises (a text file named .png, GIF, ...), data the decoder fails on, unsupported pixel
// depths or channel counts.
#include <ATen/ATen.h>

#include <string>

#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {

// JPEG and PNG files whose header declares more pixels than this (16384 x 16384) are refused
// before decoding: a few hundred bytes can declare gigabytes of pixels.
constexpr std::size_t kMaxImagePixels = std::size_t(1) << 28;

// Float32 [channels, H, W]. Throws StimulusError naming the file (see above), UsageError for a
// bad crop_pct.
at::Tensor load_image(const std::string& path, int64_t channels, const Resize& resize);
// Same, with Fit::kStretch to `size`.
at::Tensor load_image(const std::string& path, int64_t channels, const Size2& size);

struct LoadedImage {
  at::Tensor pixels;   // float32 [channels, region.height, region.width]
  std::string sha256;  // of the file's bytes, as read for decoding
};
// Only `region` of what load_image gives: the same values as
// load_image(path, channels, resize).narrow(1, top, height).narrow(2, left, width), computing
// only those pixels (receptive-field cropping prepares just the crop box). Throws as load_image;
// Error(kInternal) for a region outside resize.size.
LoadedImage load_image_region(const std::string& path, int64_t channels, const Resize& resize,
                              const PixelRegion& region);

// Where Fit::kCrop resizes an image of `image` size to, and the crop's top-left corner in it.
struct CropBox {
  Size2 resized;
  int64_t top = 0;
  int64_t left = 0;
};
// Throws UsageError if crop_pct is not in (0, 1].
CropBox crop_box(const Size2& image, const Size2& target, double crop_pct);

// File name extensions OpenCV can read, lower case with the dot (".png", ".jpg", ...): what a
// directory stimulus picks up.
bool has_image_extension(const std::string& path);

}  // namespace torchprobe
