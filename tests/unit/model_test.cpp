#include "torchprobe/model.h"

#include <gtest/gtest.h>

#include "test_models.h"
#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

using testing::test_model;

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
  expect_load_error(TEST_MODELS_DIR, ExitCode::kModelIsDirectory, "is a directory");
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

TEST(Model, ParseModeRejectsUnknownNames) {
  EXPECT_EQ(parse_mode("as-saved"), Mode::kAsSaved);
  EXPECT_THROW(parse_mode("inference"), UsageError);
}

}  // namespace
}  // namespace torchprobe
