#include "torchprobe/stimuli/preprocess.h"

#include <gtest/gtest.h>

#include "test_models.h"
#include "torchprobe/errors.h"
#include "torchprobe/stimuli/image.h"

namespace torchprobe {
namespace {

TEST(CropBox, SquareTargetIsTorchvisionResize256CenterCrop224) {
  // torchvision: Resize(256) on 640x480 gives 256x341, CenterCrop(224) starts at
  // round(16.0) = 16 and round(58.5) = 58 (Python rounds half to even).
  CropBox box = crop_box({480, 640}, {224, 224}, 0.875);
  EXPECT_EQ(box.resized, (Size2{256, 341}));
  EXPECT_EQ(box.top, 16);
  EXPECT_EQ(box.left, 58);
  CropBox portrait = crop_box({640, 480}, {224, 224}, 0.875);
  EXPECT_EQ(portrait.resized, (Size2{341, 256}));
  EXPECT_EQ(portrait.top, 58);
}

TEST(CropBox, NonSquareTargetCoversItsScaledBox) {
  // Target 100x200 with p = 0.5 must cover 200x400: a square image is decided by the width.
  CropBox box = crop_box({300, 300}, {100, 200}, 0.5);
  EXPECT_EQ(box.resized, (Size2{400, 400}));
  EXPECT_EQ(box.top, 150);
  EXPECT_EQ(box.left, 100);
  CropBox full = crop_box({50, 100}, {50, 100}, 1.0);  // crop_pct 1 on the right aspect: no crop
  EXPECT_EQ(full.resized, (Size2{50, 100}));
  EXPECT_EQ(full.top, 0);
  EXPECT_THROW(crop_box({10, 10}, {8, 8}, 1.5), UsageError);
}

TEST(Preprocess, WithoutAModelDefaultsTo224StretchNoNormalisation) {
  Preprocessing pre = resolve_preprocessing(PreprocessOptions{});
  EXPECT_EQ(pre.size, (Size2{224, 224}));
  EXPECT_EQ(pre.channels, 3);
  EXPECT_EQ(pre.fit, Fit::kStretch);
  EXPECT_EQ(pre.name, "none");
  EXPECT_TRUE(pre.mean.empty());
}

TEST(Preprocess, ModelMetadataGivesSizeChannelsCropAndNormalisation) {
  Model model = Model::load(testing::test_model("tiny_gray_script"));
  std::vector<std::string> warnings;
  Preprocessing pre = resolve_preprocessing(model, {}, warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(pre.size, (Size2{32, 32}));
  EXPECT_EQ(pre.channels, 1);
  EXPECT_EQ(pre.fit, Fit::kCrop);
  EXPECT_EQ(pre.name, "model");
  EXPECT_EQ(pre.mean.size(), 1u);  // the metadata's 3 values, used cyclically for 1 channel
  nlohmann::json j = pre.to_json();
  EXPECT_EQ(j["fit"], "crop");
  EXPECT_EQ(j["crop_pct"], 0.875);
  EXPECT_EQ(j["size"], nlohmann::json({32, 32}));

  PreprocessOptions stretch;
  stretch.fit = Fit::kStretch;
  EXPECT_EQ(resolve_preprocessing(model, stretch, warnings).fit, Fit::kStretch);
}

TEST(Preprocess, CustomMeanAndStdAreCheckedAndRecorded) {
  PreprocessOptions options;
  options.mean = parse_float_list("--mean", "0.5");
  Preprocessing pre = resolve_preprocessing(options);
  EXPECT_EQ(pre.name, "custom");
  EXPECT_EQ(pre.mean, (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_EQ(pre.std_dev, (std::vector<double>{1.0, 1.0, 1.0}));
  at::Tensor ones = at::ones({3, 2, 2});
  EXPECT_TRUE(at::allclose(pre.normalize(ones), at::full({3, 2, 2}, 0.5f)));

  options.mean = {0.1, 0.2};
  EXPECT_THROW(resolve_preprocessing(options), UsageError);
  options.mean = {0.1};
  options.std_dev = {0.0};
  EXPECT_THROW(resolve_preprocessing(options), UsageError);
  options.std_dev = {1.0};
  options.preprocess = Normalization::kImagenet;
  EXPECT_THROW(resolve_preprocessing(options), UsageError);
  EXPECT_THROW(parse_float_list("--std", "1,,2"), UsageError);
  EXPECT_THROW(parse_float_list("--std", "1,nan"), UsageError);
}

TEST(Preprocess, UniformOneWithoutNormalisationIsExactlyOnes) {
  Preprocessing pre = resolve_preprocessing(PreprocessOptions{});
  at::Tensor input = pre.prepare(StimulusSpec::parse("uniform:1@224x244"));
  EXPECT_TRUE(at::equal(input, at::ones({3, 224, 244})));
}

}  // namespace
}  // namespace torchprobe
