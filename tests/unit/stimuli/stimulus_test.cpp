#include "torchprobe/stimuli/stimulus.h"

#include <gtest/gtest.h>

#include "torchprobe/errors.h"
#include "torchprobe/stimuli/synthetic.h"

namespace torchprobe {
namespace {

TEST(Stimulus, UniformWithSizeIsATensorOfThatValue) {
  auto spec = StimulusSpec::parse("uniform:1@224x244");
  EXPECT_EQ(spec.id, "uniform:1@224x244");
  at::Tensor t = render_stimulus(spec, 3, Size2{10, 10});
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{3, 224, 244}));
  EXPECT_TRUE(at::equal(t, at::ones({3, 224, 244})));
}

TEST(Stimulus, NoiseIsDeterministicUniformInUnitInterval) {
  auto spec = StimulusSpec::parse("noise:7");
  at::Tensor a = render_stimulus(spec, 3, Size2{16, 20});
  at::Tensor b = render_stimulus(spec, 3, Size2{16, 20});
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_GE(a.min().item<float>(), 0.0f);
  EXPECT_LT(a.max().item<float>(), 1.0f);
  EXPECT_NEAR(a.mean().item<float>(), 0.5f, 0.05f);
  EXPECT_FALSE(at::equal(a, render_stimulus(StimulusSpec::parse("noise:8"), 3, Size2{16, 20})));
}

TEST(Stimulus, NoiseDistUniformIsPlainNoise) {
  auto plain = render_stimulus(StimulusSpec::parse("noise:7"), 3, Size2{8, 8});
  auto explicit_uniform =
      render_stimulus(StimulusSpec::parse("noise:7,dist=uniform"), 3, Size2{8, 8});
  EXPECT_TRUE(at::equal(plain, explicit_uniform));
}

TEST(Stimulus, NormalNoiseHasDocumentedMeanAndStd) {
  at::Tensor t = render_stimulus(StimulusSpec::parse("noise:3,dist=normal"), 3, Size2{128, 128});
  EXPECT_NEAR(t.mean().item<float>(), 0.5f, 0.01f);
  EXPECT_NEAR(t.std().item<float>(), 0.25f, 0.01f);
  EXPECT_LT(t.min().item<float>(), 0.0f);  // not clipped
}

TEST(Stimulus, GratingAtOrientationZeroIsConstantDownEachColumn) {
  at::Tensor t = render_grating({0, 4}, 1, {6, 32})[0];
  EXPECT_TRUE(at::equal(t, t[0].unsqueeze(0).expand({6, 32})));
  at::Tensor horizontal = render_grating({90, 4}, 1, {32, 6})[0];
  EXPECT_TRUE(at::equal(horizontal, horizontal.select(1, 0).unsqueeze(1).expand({32, 6})));
}

TEST(Stimulus, GratingDefaultsSpanZeroToOneAroundHalf) {
  auto spec = StimulusSpec::parse("grating:");
  EXPECT_EQ(spec.id, "grating:ori=0,sf=8,phase=0,contrast=1,mean=0.5");
  at::Tensor t = render_stimulus(spec, 3, Size2{64, 64});
  EXPECT_NEAR(t.mean().item<float>(), 0.5f, 1e-6f);
  EXPECT_GE(t.min().item<float>(), 0.0f);
  EXPECT_LE(t.max().item<float>(), 1.0f);
  EXPECT_TRUE(at::equal(t[0], t[2]));
}

TEST(Stimulus, CanonicalIds) {
  EXPECT_EQ(StimulusSpec::parse("uniform:0.50").id, "uniform:0.5");
  EXPECT_EQ(StimulusSpec::parse("uniform:-0").id, "uniform:0");
  EXPECT_EQ(StimulusSpec::parse("noise:007@8x9").id, "noise:7@8x9");
  EXPECT_EQ(StimulusSpec::parse("noise:7,dist=uniform").id, "noise:7");
  EXPECT_EQ(StimulusSpec::parse("noise:7,dist=normal@4x4").id, "noise:7,dist=normal@4x4");
  EXPECT_EQ(StimulusSpec::parse("grating:sf=4.0,ori=45@32x48").id,
            "grating:ori=45,sf=4,phase=0,contrast=1,mean=0.5@32x48");
  EXPECT_EQ(StimulusSpec::parse("images/cat.png").id, "images/cat.png");
  EXPECT_EQ(StimulusSpec::parse("icon@2x.png").path, "icon@2x.png");
}

TEST(Stimulus, MalformedSpecsNameTheSpec) {
  for (const char* bad :
       {"uniform:", "uniform:abc", "uniform:inf", "uniform:0x10", "noise:-1", "noise:1@0x5",
        "uniform:1@224", "noise:18446744073709551616", "noise:1,dist=cauchy", "noise:1,seed=2",
        "grating:ori", "grating:ori=a", "grating:tilt=4", "grating:ori=1,ori=2", "grating:sf=-1",
        "grating:contrast=-0.5"}) {
    try {
      StimulusSpec::parse(bad);
      FAIL() << bad;
    } catch (const StimulusError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Stimulus, MissingImageFileIsAStimulusError) {
  EXPECT_THROW(render_stimulus(StimulusSpec::parse("/nonexistent/cat.png"), 3, Size2{8, 8}),
               StimulusError);
}

TEST(Stimulus, SyntheticStimuliIgnoreTheFit) {
  Resize crop({16, 16}, Fit::kCrop);
  auto spec = StimulusSpec::parse("grating:ori=30@20x24");
  EXPECT_TRUE(at::equal(render_stimulus(spec, 3, crop), render_stimulus(spec, 3, Size2{1, 1})));
}

TEST(Size, ParsesHxW) {
  EXPECT_EQ(parse_size("224x244"), (Size2{224, 244}));
  EXPECT_THROW(parse_size("0x0"), UsageError);
  EXPECT_THROW(parse_size("224"), UsageError);
}

TEST(Fit, ParsesNames) {
  EXPECT_EQ(parse_fit("crop"), Fit::kCrop);
  EXPECT_EQ(to_string(parse_fit("stretch")), "stretch");
  EXPECT_THROW(parse_fit("pad"), UsageError);
}

}  // namespace
}  // namespace torchprobe
