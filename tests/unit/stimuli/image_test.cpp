// Preparing only a region of an image (receptive-field cropping) gives exactly the pixels of the
// whole image at that place.
#include "torchprobe/stimuli/image.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "scratch_dir.h"
#include "torchprobe/detail/sha256.h"
#include "torchprobe/errors.h"
#include "torchprobe/stimuli/preprocess.h"
#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {
namespace {

class ImageRegionTest : public test_support::ScratchDirTest {
 protected:
  ImageRegionTest() : ScratchDirTest("image") {}

  // A deterministic image of `type` (CV_8UC3, CV_16UC1, CV_8UC4, ...) written as `name`.
  std::string write_image(const std::string& name, int rows, int cols, int type) {
    cv::Mat image(rows, cols, type);
    cv::randu(image, cv::Scalar::all(0),
              cv::Scalar::all(CV_MAT_DEPTH(type) == CV_16U ? 65535 : 255));
    const std::string file = path(name);
    EXPECT_TRUE(cv::imwrite(file, image));
    return file;
  }

  // A JPEG of random pixels with the given chroma subsampling (h x v for Y; 1x1 is 4:4:4, 2x2
  // 4:2:0), written with libjpeg directly to choose what OpenCV's imwrite cannot.
  std::string write_jpeg(const std::string& name, int rows, int cols, int components, int h, int v,
                         bool progressive, int restart_rows, unsigned seed) {
    cv::Mat image(rows, cols, components == 3 ? CV_8UC3 : CV_8UC1);
    cv::theRNG().state = seed;
    cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
    cv::GaussianBlur(image, image, cv::Size(5, 5), 0);  // photo-like: smooth, some detail
    const std::string file = path(name);
    std::FILE* out = std::fopen(file.c_str(), "wb");
    EXPECT_NE(out, nullptr);
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr errors{};
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, out);
    cinfo.image_width = JDIMENSION(cols);
    cinfo.image_height = JDIMENSION(rows);
    cinfo.input_components = components;
    cinfo.in_color_space = components == 3 ? JCS_EXT_BGR : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 90, TRUE);
    cinfo.comp_info[0].h_samp_factor = h;
    cinfo.comp_info[0].v_samp_factor = v;
    if (progressive) jpeg_simple_progression(&cinfo);
    cinfo.restart_in_rows = restart_rows;
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
      JSAMPROW row = image.ptr<unsigned char>(int(cinfo.next_scanline));
      jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    std::fclose(out);
    return file;
  }

  static at::Tensor narrowed(const at::Tensor& whole, const PixelRegion& r) {
    return whole.narrow(1, r.top, r.height).narrow(2, r.left, r.width);
  }
};

TEST_F(ImageRegionTest, RegionEqualsTheSamePlaceOfTheWholeImage) {
  const std::vector<std::string> files = {
      write_image("colour.jpg", 53, 37, CV_8UC3),     // upscaled to 224x224
      write_image("gray16.png", 300, 410, CV_16UC1),  // downscaled
      write_image("rgba.png", 61, 90, CV_8UC4),
  };
  const std::vector<Resize> resizes = {Resize({224, 224}), Resize({24, 40}),
                                       Resize({224, 224}, Fit::kCrop, 0.875),
                                       Resize({30, 20}, Fit::kCrop, 0.6)};
  for (const auto& file : files) {
    for (int64_t channels : {1, 3}) {
      for (const auto& resize : resizes) {
        const at::Tensor whole = load_image(file, channels, resize);
        const Size2 s = resize.size;
        const std::vector<PixelRegion> regions = {PixelRegion::whole(s),
                                                  {0, 0, 1, 1},
                                                  {s.height / 2 - 4, s.width / 2 - 3, 8, 7},
                                                  {s.height - 5, s.width - 2, 5, 2},
                                                  {3, 0, s.height - 3, 4}};
        for (const auto& region : regions) {
          LoadedImage part = load_image_region(file, channels, resize, region);
          ASSERT_TRUE(at::equal(part.pixels, narrowed(whole, region)))
              << file << " channels " << channels << " size " << to_string(s) << " region "
              << region.top << "," << region.left << " " << region.height << "x" << region.width;
          EXPECT_EQ(part.sha256, sha256_file(file).value());
        }
      }
    }
  }
}

// Regions of JPEGs are decoded by libjpeg-turbo directly, only the rows and columns they read
// (jpeg_window.h); the whole image by OpenCV. Every subsampling, progressive and restart
// markers, sizes that are not a multiple of the block size, and many regions.
TEST_F(ImageRegionTest, JpegRegionsEqualOpenCvsWholeDecode) {
  struct Case {
    const char* name;
    int rows, cols, components, h, v;
    bool progressive;
    int restart_rows;
  };
  const Case cases[] = {
      {"420.jpg", 256, 256, 3, 2, 2, false, 0},        {"444.jpg", 203, 317, 3, 1, 1, false, 0},
      {"422.jpg", 150, 97, 3, 2, 1, false, 0},         {"440.jpg", 121, 140, 3, 1, 2, false, 0},
      {"progressive.jpg", 256, 200, 3, 2, 2, true, 0}, {"restart.jpg", 260, 250, 3, 2, 2, false, 1},
      {"gray.jpg", 301, 199, 1, 1, 1, false, 0}};
  std::mt19937 rng(11);
  unsigned seed = 1;
  for (const auto& c : cases) {
    const std::string file = write_jpeg(c.name, c.rows, c.cols, c.components, c.h, c.v,
                                        c.progressive, c.restart_rows, seed++);
    for (const Resize& resize : {Resize({224, 224}), Resize({224, 224}, Fit::kCrop, 0.875),
                                 Resize({c.rows, c.cols}), Resize({61, 45})}) {
      const at::Tensor whole = load_image(file, 3, resize);
      const Size2 s = resize.size;
      for (int i = 0; i < 12; ++i) {
        const int64_t height = 1 + int64_t(rng() % uint32_t(std::min<int64_t>(s.height - 1, 60)));
        const int64_t width = 1 + int64_t(rng() % uint32_t(std::min<int64_t>(s.width - 1, 60)));
        const PixelRegion region{int64_t(rng() % uint32_t(s.height - height + 1)),
                                 int64_t(rng() % uint32_t(s.width - width + 1)), height, width};
        ASSERT_TRUE(
            at::equal(load_image_region(file, 3, resize, region).pixels, narrowed(whole, region)))
            << c.name << " size " << to_string(s) << " region " << region.top << "," << region.left
            << " " << region.height << "x" << region.width;
      }
    }
  }
}

TEST_F(ImageRegionTest, CorruptJpegDataGivesTheSamePixelsAsTheWholeDecode) {
  // Bytes changed in the entropy-coded data: libjpeg warns and decodes something; a region
  // then falls back to OpenCV's whole decode, so it agrees with it.
  const std::string file = write_jpeg("corrupt.jpg", 128, 128, 3, 2, 2, false, 0, 5);
  std::FILE* f = std::fopen(file.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  for (long at = size / 2; at < size / 2 + 40; at += 7) {
    std::fseek(f, at, SEEK_SET);
    std::fputc(0xFF, f);
    std::fputc(0xD3, f);  // a restart marker where none belongs
  }
  std::fclose(f);
  const Resize resize({64, 64});
  const at::Tensor whole = load_image(file, 3, resize);
  const PixelRegion region{40, 10, 20, 30};
  EXPECT_TRUE(
      at::equal(load_image_region(file, 3, resize, region).pixels, narrowed(whole, region)));
}

TEST_F(ImageRegionTest, RegionOutsideTheImageIsAnInternalError) {
  const std::string file = write_image("colour.png", 10, 10, CV_8UC3);
  EXPECT_THROW(load_image_region(file, 3, Resize({8, 8}), {4, 4, 5, 4}), Error);
  EXPECT_THROW(load_image_region(file, 3, Resize({8, 8}), {0, 0, 0, 4}), Error);
}

TEST_F(ImageRegionTest, PreparedRegionEqualsTheNormalisedWholeInputThere) {
  Preprocessing pre;
  pre.size = {32, 48};
  pre.mean = {0.485, 0.456, 0.406};
  pre.std_dev = {0.229, 0.224, 0.225};
  const PixelRegion region{5, 17, 9, 11};
  const std::vector<StimulusSpec> specs = {
      StimulusSpec::parse(write_image("a.jpg", 40, 40, CV_8UC3)), StimulusSpec::parse("noise:3"),
      StimulusSpec::parse("grating:ori=30"), StimulusSpec::parse("uniform:0.25")};
  for (const auto& spec : specs) {
    RenderedStimulus part = pre.prepare_region(spec, region);
    EXPECT_TRUE(at::equal(part.pixels, narrowed(pre.prepare(spec), region))) << spec.id;
    EXPECT_EQ(part.sha256.has_value(), spec.is_file()) << spec.id;
  }
}

TEST_F(ImageRegionTest, UnreadableFileInARegionIsAStimulusError) {
  EXPECT_THROW(load_image_region(path("missing.png"), 3, Resize({8, 8}), {0, 0, 2, 2}),
               StimulusError);
}

}  // namespace
}  // namespace torchprobe
