#include "torchprobe/stimulus.h"

#include <gtest/gtest.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

TEST(Stimulus, UniformWithSizeIsATensorOfThatValue) {
  auto spec = StimulusSpec::parse("uniform:1@224x244");
  EXPECT_EQ(spec.id, "uniform:1@224x244");
  at::Tensor t = render_stimulus(spec, 3, {10, 10});
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{3, 224, 244}));
  EXPECT_TRUE(at::equal(t, at::ones({3, 224, 244})));
}

TEST(Stimulus, NoiseIsDeterministicUniformInUnitInterval) {
  auto spec = StimulusSpec::parse("noise:7");
  at::Tensor a = render_stimulus(spec, 3, {16, 20});
  at::Tensor b = render_stimulus(spec, 3, {16, 20});
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_GE(a.min().item<float>(), 0.0f);
  EXPECT_LT(a.max().item<float>(), 1.0f);
  EXPECT_NEAR(a.mean().item<float>(), 0.5f, 0.05f);
  EXPECT_FALSE(at::equal(a, render_stimulus(StimulusSpec::parse("noise:8"), 3, {16, 20})));
}

TEST(Stimulus, CanonicalIds) {
  EXPECT_EQ(StimulusSpec::parse("uniform:0.50").id, "uniform:0.5");
  EXPECT_EQ(StimulusSpec::parse("noise:007@8x9").id, "noise:7@8x9");
  EXPECT_EQ(StimulusSpec::parse("images/cat.png").id, "images/cat.png");
}

TEST(Stimulus, MalformedSpecsNameTheSpec) {
  for (const char* bad : {"uniform:", "uniform:abc", "noise:-1", "noise:1@0x5", "uniform:1@224"}) {
    try {
      StimulusSpec::parse(bad);
      FAIL() << bad;
    } catch (const StimulusError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Stimulus, MissingImageFileIsAStimulusError) {
  EXPECT_THROW(render_stimulus(StimulusSpec::parse("/nonexistent/cat.png"), 3, {8, 8}), StimulusError);
}

TEST(Size, ParsesHxW) {
  EXPECT_EQ(parse_size("224x244"), (Size2{224, 244}));
  EXPECT_THROW(parse_size("0x0"), UsageError);
  EXPECT_THROW(parse_size("224"), UsageError);
}

}  // namespace
}  // namespace torchprobe
