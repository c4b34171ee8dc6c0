// Preparing only a region of an image (receptive-field cropping) gives exactly the pixels of the
// whole image at that place.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "scratch_dir.h"
#include "torchprobe/errors.h"
#include "torchprobe/image.h"
#include "torchprobe/preprocess.h"
#include "torchprobe/sha256.h"
#include "torchprobe/stimulus.h"

namespace torchprobe {
namespace {

class ImageRegionTest : public test_support::ScratchDirTest {
 protected:
  ImageRegionTest() : ScratchDirTest("image") {}

  // A deterministic image of `type` (CV_8UC3, CV_16UC1, CV_8UC4, ...) written as `name`.
  std::string write_image(const std::string& name, int rows, int cols, int type) {
    cv::Mat image(rows, cols, type);
    cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(CV_MAT_DEPTH(type) == CV_16U ? 65535 : 255));
    const std::string file = path(name);
    EXPECT_TRUE(cv::imwrite(file, image));
    return file;
  }

  static at::Tensor narrowed(const at::Tensor& whole, const PixelRegion& r) {
    return whole.narrow(1, r.top, r.height).narrow(2, r.left, r.width);
  }
};

TEST_F(ImageRegionTest, RegionEqualsTheSamePlaceOfTheWholeImage) {
  const std::vector<std::string> files = {
      write_image("colour.jpg", 53, 37, CV_8UC3),   // upscaled to 224x224
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
        const std::vector<PixelRegion> regions = {
            PixelRegion::whole(s), {0, 0, 1, 1}, {s.height / 2 - 4, s.width / 2 - 3, 8, 7},
            {s.height - 5, s.width - 2, 5, 2}, {3, 0, s.height - 3, 4}};
        for (const auto& region : regions) {
          LoadedImage part = load_image_region(file, channels, resize, region);
          ASSERT_TRUE(at::equal(part.pixels, narrowed(whole, region)))
              << file << " channels " << channels << " size " << to_string(s) << " region "
              << region.top << "," << region.left << " " << region.height << "x" << region.width;
          EXPECT_EQ(part.sha256, sha256_file(file));
        }
      }
    }
  }
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
  pre.std = {0.229, 0.224, 0.225};
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
  EXPECT_THROW(load_image_region(path("missing.png"), 3, Resize({8, 8}), {0, 0, 2, 2}), StimulusError);
}

}  // namespace
}  // namespace torchprobe
