#include "torchprobe/capture/receptive_field.h"

#include <gtest/gtest.h>

#include "test_models.h"

namespace torchprobe {
namespace {

using testing::test_model;

at::Tensor noise_batch(int64_t n, const Size2& size, uint64_t seed) {
  std::vector<at::Tensor> items;
  for (int64_t i = 0; i < n; ++i) {
    items.push_back(render_stimulus(
        StimulusSpec::parse("noise:" + std::to_string(seed + uint64_t(i))), 3, size));
  }
  return at::stack(items);
}

// Cropped readouts equal uncropped ones for every capture of `layers`.
void expect_cropped_equals_full(const std::string& model_name,
                                const std::vector<std::string>& layers,
                                const std::string& readout_text, const Size2& size,
                                bool expect_active) {
  Model model = Model::load(test_model(model_name));
  model.set_mode(Mode::kEval);
  CaptureProgram program = CaptureProgram::build(model, layers, {});
  Readout readout = Readout::parse(readout_text);
  CropPlan plan = plan_crop(program, readout, 3, size);
  ASSERT_EQ(plan.active, expect_active) << model_name << " " << readout_text << ": " << plan.reason;
  if (!plan.active) return;
  EXPECT_LT(plan.height * plan.width, size.height * size.width);
  at::Tensor batch = noise_batch(2, size, 77);
  Captures full = program.run(batch);
  Captures cropped = program.run(plan.crop(batch));
  ASSERT_EQ(full.captures.size(), cropped.captures.size());
  for (std::size_t i = 0; i < full.captures.size(); ++i) {
    for (int64_t n = 0; n < 2; ++n) {
      Response want = readout.apply(full.captures[i].value, n, full.captures[i].name);
      Response got = plan.read(cropped.captures[i], n);
      EXPECT_EQ(got.shape, want.shape);
      EXPECT_EQ(got.index, want.index);
      double scale = full.captures[i].value.abs().max().item<double>();
      EXPECT_LE((got.values - want.values).abs().max().item<double>(), 1e-5 * scale)
          << model_name << " " << full.captures[i].name;
    }
  }
}

TEST(ReceptiveField, CenterOfEarlyLayersIsCroppedExactly) {
  expect_cropped_equals_full("googlenet_script", {"conv1"}, "center", {224, 224}, true);
  expect_cropped_equals_full("googlenet_trace", {"conv1.bn", "inception3a"}, "center", {224, 224},
                             true);
  expect_cropped_equals_full("resnet18_script", {"layer1.0.relu", "layer2.0.conv1"}, "center",
                             {224, 224}, true);
  expect_cropped_equals_full("densenet121_script", {"features.denseblock1.denselayer1.conv1"},
                             "center", {224, 224}, true);
}

TEST(ReceptiveField, NonSquareInputsAndPositionsNearTheBorder) {
  expect_cropped_equals_full("googlenet_script", {"conv1", "conv2"}, "center", {224, 244}, true);
  expect_cropped_equals_full("resnet18_trace", {"layer1.0.bn2"}, "at:0,55", {224, 224}, true);
  expect_cropped_equals_full("resnet18_trace", {"layer1.0.bn2"}, "at:55,0", {224, 244}, true);
  expect_cropped_equals_full("googlenet_script", {"conv1"}, "at:111,111", {224, 224}, true);
}

TEST(ReceptiveField, LayersThatSeeTheWholeInputFallBack) {
  expect_cropped_equals_full("googlenet_script", {"inception4e"}, "center", {224, 224}, false);
  expect_cropped_equals_full("resnet18_script", {"avgpool"}, "center", {224, 224}, false);
  expect_cropped_equals_full("resnet18_script", {"fc"}, "center", {224, 224}, false);
}

TEST(ReceptiveField, SizeDependentValuesFallBackByTheExactnessCheck) {
  // coord_conv concatenates coordinate channels computed from the input's size: every unit sees a
  // 5x5 box (the NaN search finds it), but on a crop the coordinates and so the values differ.
  Model model = Model::load(test_model("coord_conv_script"));
  model.set_mode(Mode::kEval);
  CaptureProgram program = CaptureProgram::build(model, {"conv1", "conv2"}, {});
  CropPlan plan = plan_crop(program, Readout::parse("center"), 3, {32, 32});
  EXPECT_FALSE(plan.active);
  EXPECT_NE(plan.reason.find("cropped and full responses differ"), std::string::npos)
      << plan.reason;
  EXPECT_LE(plan.height * plan.width, 8 * 8);  // the box search passed; only the check refused
  EXPECT_EQ(plan.to_json()["used"], false);
  EXPECT_EQ(plan.to_json()["reason"], plan.reason);
}

TEST(ReceptiveField, ReceptiveFieldsWithGapsGetTheirWholeBox) {
  // Unit (16, 16) of dilated_gaps reads rows and columns 10, 16 and 22 only. The box search on
  // windows of the input assumes one connected receptive field and sees none of the gaps' far
  // side; the whole-input NaN test of the box it finds fails, and the search on the whole input
  // finds the 13x13 box.
  Model model = Model::load(test_model("dilated_gaps_script"));
  model.set_mode(Mode::kEval);
  CaptureProgram program = CaptureProgram::build(model, {"conv2"}, {});
  CropPlan plan = plan_crop(program, Readout::parse("center"), 3, {32, 32});
  ASSERT_TRUE(plan.active) << plan.reason;
  EXPECT_EQ(plan.y0, 10);
  EXPECT_EQ(plan.x0, 10);
  EXPECT_EQ(plan.height, 13);
  EXPECT_EQ(plan.width, 13);
  expect_cropped_equals_full("dilated_gaps_trace", {"conv1", "conv2"}, "center", {32, 32}, true);
}

TEST(ReceptiveField, NonPointReadoutsAreNotCropped) {
  expect_cropped_equals_full("googlenet_script", {"conv1"}, "mean", {224, 224}, false);
}

}  // namespace
}  // namespace torchprobe
