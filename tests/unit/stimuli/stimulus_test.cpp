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

TEST(Stimulus, ParametersGivingNonFinitePixelsAreRefused) {
  for (const char* bad : {"grating:sf=1e308", "grating:mean=1e300", "grating:mean=1e38,contrast=10",
                          "uniform:1e39"}) {
    try {
      StimulusSpec::parse(bad);
      FAIL() << bad;
    } catch (const StimulusError& e) {
      EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
    }
  }
  // Large but finite parameters stay allowed: the pixels are finite.
  at::Tensor big = render_stimulus(StimulusSpec::parse("grating:sf=1e6,mean=1e30"), 1, Size2{8, 8});
  EXPECT_TRUE(at::isfinite(big).all().item<bool>());
}

TEST(Stimulus, SizeBeyondTheBoundIsRefusedNamingTheSpec) {
  for (const char* bad : {"uniform:1@100000x100000", "uniform:1@16385x1", "noise:1@8193x8192"}) {
    try {
      StimulusSpec::parse(bad);
      FAIL() << bad;
    } catch (const StimulusError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(std::string("'") + bad + "'"), std::string::npos) << what;
      EXPECT_NE(what.find("too large"), std::string::npos) << what;
    }
  }
  EXPECT_EQ(StimulusSpec::parse("uniform:1@16384x4096").size, (Size2{16384, 4096}));
  EXPECT_EQ(StimulusSpec::parse("uniform:1@8192x8192").size, (Size2{8192, 8192}));
}

TEST(Stimulus, SpecKindIsTheWordBeforeTheColon) {
  EXPECT_EQ(spec_kind("gabor:ori=45"), "gabor");
  EXPECT_EQ(spec_kind("grating:ori=45"), "grating");
  EXPECT_EQ(spec_kind("cat.png"), std::nullopt);
  EXPECT_EQ(spec_kind("Cat:1.png"), std::nullopt);  // upper case: a file name
  EXPECT_EQ(spec_kind(":x"), std::nullopt);
  EXPECT_FALSE(is_synthetic_spec("gratings:ori=1"));
  EXPECT_TRUE(is_synthetic_spec("grating:"));
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
  EXPECT_THROW(parse_size("60000x60000"), UsageError);
  EXPECT_EQ(size_bound_violation(Size2{8192, 8192}), "");
  EXPECT_NE(size_bound_violation(Size2{8192, 8193}), "");
  EXPECT_NE(size_bound_violation(Size2{16385, 1}), "");
}

TEST(Fit, ParsesNames) {
  EXPECT_EQ(parse_fit("crop"), Fit::kCrop);
  EXPECT_EQ(to_string(parse_fit("stretch")), "stretch");
  EXPECT_THROW(parse_fit("pad"), UsageError);
}

}  // namespace
}  // namespace torchprobe
