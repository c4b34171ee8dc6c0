#include "torchprobe/capture/readout.h"

#include <gtest/gtest.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

at::Tensor sample(std::vector<int64_t> shape) {
  return at::randn(shape, at::TensorOptions().dtype(at::kFloat));
}

TEST(Readout, CenterHalvesEachSpatialDimensionSeparately) {
  at::Tensor t = sample({2, 4, 7, 10});
  Response r = Readout::parse("center").apply(t, 1, "x");
  EXPECT_EQ(r.shape, (std::vector<int64_t>{4, 7, 10}));
  EXPECT_EQ(r.index, (std::vector<int64_t>{3, 5}));
  EXPECT_TRUE(at::equal(r.values, t.index({1, at::indexing::Slice(), 3, 5})));
}

TEST(Readout, AtReadsTheGivenPositionAndRejectsOutside) {
  at::Tensor t = sample({1, 3, 5, 6});
  Response r = Readout::parse("at:4,0").apply(t, 0, "x");
  EXPECT_TRUE(at::equal(r.values, t.index({0, at::indexing::Slice(), 4, 0})));
  try {
    Readout::parse("at:5,0").apply(t, 0, "conv1");
    FAIL();
  } catch (const ReadoutError& e) {
    EXPECT_NE(std::string(e.what()).find("conv1"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[1,3,5,6]"), std::string::npos);
  }
}

TEST(Readout, MeanAndMaxReduceSpatialPositionsPerChannel) {
  at::Tensor t = sample({1, 3, 5, 6});
  EXPECT_TRUE(at::allclose(Readout::parse("mean").apply(t, 0, "x").values, t[0].mean({1, 2})));
  EXPECT_TRUE(at::equal(Readout::parse("max").apply(t, 0, "x").values, t[0].amax({1, 2})));
  at::Tensor l = sample({1, 3, 9});
  EXPECT_TRUE(at::equal(Readout::parse("center").apply(l, 0, "x").values,
                        l.index({0, at::indexing::Slice(), 4})));
  EXPECT_TRUE(at::equal(Readout::parse("max").apply(l, 0, "x").values, l[0].amax({1})));
}

TEST(Readout, VectorsAreReadWhole) {
  at::Tensor t = sample({3, 10});
  for (const char* name : {"center", "mean", "max", "full"}) {
    Response r = Readout::parse(name).apply(t, 2, "fc");
    EXPECT_TRUE(r.index.empty());
    EXPECT_TRUE(at::equal(r.values, t[2])) << name;
  }
}

TEST(Readout, FullKeepsTheWholeMap) {
  at::Tensor t = sample({1, 2, 3, 4});
  EXPECT_TRUE(at::equal(Readout::parse("full").apply(t, 0, "x").values, t[0]));
}

TEST(Readout, OtherRanksAreAnErrorNamingTheShape) {
  try {
    Readout::parse("center").apply(sample({2, 3, 4, 5, 6}), 0, "conv3d");
    FAIL();
  } catch (const ReadoutError& e) {
    EXPECT_NE(std::string(e.what()).find("[2,3,4,5,6]"), std::string::npos);
  }
}

TEST(Readout, ParseRejectsUnknownReadouts) {
  EXPECT_THROW(Readout::parse("middle"), UsageError);
  EXPECT_THROW(Readout::parse("at:1"), UsageError);
  EXPECT_THROW(Readout::parse("at:-1,2"), UsageError);
  EXPECT_EQ(Readout::parse("at:3,4").to_string(), "at:3,4");
}

}  // namespace
}  // namespace torchprobe
