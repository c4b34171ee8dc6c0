#include "torchprobe/model/model.h"

#include <gtest/gtest.h>
#include <map>

#include "test_models.h"
#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

using testing::test_model;
using testing::test_models_dir;

void expect_load_error(const std::string& path, ExitCode code, const std::string& fragment) {
  try {
    Model::load(path);
    FAIL() << "expected ModelLoadError for " << path;
  } catch (const ModelLoadError& e) {
    EXPECT_EQ(e.code(), code) << path << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Model, BadFilesGetDistinctCodes) {
  expect_load_error(test_model("does_not_exist"), ExitCode::kModelMissing, "no such file");
  expect_load_error(test_models_dir(), ExitCode::kModelIsDirectory, "is a directory");
  expect_load_error(test_model("empty"), ExitCode::kModelEmpty, "empty");
  expect_load_error(test_model("random_bytes"), ExitCode::kModelNotArchive, "not a zip");
  expect_load_error(test_model("not_torchscript.zip"), ExitCode::kModelNotTorchScript,
                    "without TorchScript code");
  expect_load_error(test_model("state_dict"), ExitCode::kModelPickle, "torch.save");
  expect_load_error(test_model("eager_pickle"), ExitCode::kModelPickle, "torch.save");
  expect_load_error(test_model("truncated"), ExitCode::kModelTruncated, "truncated");
  expect_load_error(test_model("frozen"), ExitCode::kModelFrozen, "frozen");
}

TEST(Model, ListsSubmodulesInNamedModulesOrder) {
  Model model = Model::load(test_model("resnet18_script"));
  ASSERT_GT(model.modules().size(), 10u);
  EXPECT_EQ(model.modules()[0].name, "conv1");
  EXPECT_EQ(model.modules()[0].type, "Conv2d");
  EXPECT_EQ(model.modules()[0].qualified_type, "torch.nn.modules.conv.Conv2d");
}

TEST(Model, ReadsEmbeddedMetadata) {
  Model model = Model::load(test_model("googlenet_trace"));
  EXPECT_EQ(model.kind(), "trace");
  ASSERT_TRUE(model.input_size().has_value());
  EXPECT_EQ(*model.input_size(), (std::vector<int64_t>{3, 224, 224}));
  EXPECT_EQ(model.metadata()["architecture"], "googlenet");
}

TEST(Model, ModeChangesAndRestoresTrainingFlags) {
  Model model = Model::load(test_model("resnet18_train_script"));
  EXPECT_TRUE(model.saved_training());
  model.set_mode(Mode::kEval);
  EXPECT_FALSE(model.training());
  EXPECT_FALSE(model.modules()[1].module.is_training());
  model.set_mode(Mode::kAsSaved);
  EXPECT_TRUE(model.training());
  EXPECT_TRUE(model.modules()[1].module.is_training());
}

TEST(Model, ChannelsLastReordersConvolutionWeightsKeepingTheirValues) {
  Model model = Model::load(test_model("resnet18_script"));
  std::map<std::string, at::Tensor> before;
  for (const auto& entry : model.modules()) {
    if (entry.type == "Conv2d") before[entry.name] = entry.module.attr("weight").toTensor().clone();
  }
  ASSERT_EQ(before.size(), 20u);  // resnet18: 17 3x3/7x7 and 3 downsample convolutions
  auto weight = [&](const std::string& name) {
    return model.find(name).module.attr("weight").toTensor();
  };
  model.set_channels_last(true);
  for (const auto& [name, values] : before) {
    EXPECT_TRUE(weight(name).is_contiguous(at::MemoryFormat::ChannelsLast)) << name;
    if (values.size(2) > 1) EXPECT_FALSE(weight(name).is_contiguous()) << name;  // 1x1: both orders
    EXPECT_TRUE(at::equal(weight(name), values)) << name;
  }
  model.set_channels_last(false);
  for (const auto& [name, values] : before) {
    EXPECT_TRUE(weight(name).is_contiguous()) << name;
    EXPECT_TRUE(at::equal(weight(name), values)) << name;
  }
}

TEST(Model, ParseModeRejectsUnknownNames) {
  EXPECT_EQ(parse_mode("as-saved"), Mode::kAsSaved);
  EXPECT_THROW(parse_mode("inference"), UsageError);
}

}  // namespace
}  // namespace torchprobe
