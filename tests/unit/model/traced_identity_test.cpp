#include "torchprobe/model/traced_identity.h"

#include <gtest/gtest.h>
#include <utility>

#include "test_models.h"

namespace torchprobe {
namespace {

using testing::test_model;

std::vector<std::pair<std::string, std::string>> found_in(const std::string& name) {
  std::vector<std::pair<std::string, std::string>> found;
  for (const auto& t : traced_identities(Model::load(test_model(name)))) {
    found.emplace_back(t.layer, t.passes_on);
  }
  return found;
}

TEST(TracedIdentity, FindsCallsWithoutDataFlowAndWhatTheyPassOn) {
  // 'identity' takes the model's input, which 'stem' takes next; 'res.stochastic_depth' takes
  // 'res.block's output, which the residual add takes next.
  EXPECT_EQ(found_in("identity_modules_trace"),
            (std::vector<std::pair<std::string, std::string>>{
                {"identity", "stem:in"}, {"res.stochastic_depth", "res.block"}}));
}

TEST(TracedIdentity, NoneInScriptedModelsOrModelsWithoutIdentities) {
  EXPECT_TRUE(found_in("identity_modules_script").empty());
  EXPECT_TRUE(found_in("resnet18_trace").empty());
  EXPECT_TRUE(found_in("googlenet_trace").empty());
}

}  // namespace
}  // namespace torchprobe
