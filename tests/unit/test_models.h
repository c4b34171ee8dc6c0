#pragma once
// Paths of the models scripts/make_test_models.py generates into the build tree.
#include <string>

namespace torchprobe::testing {

inline std::string test_model(const std::string& name) {
  return std::string(TEST_MODELS_DIR) + "/" + name + ".pt";
}

}  // namespace torchprobe::testing
