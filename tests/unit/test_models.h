#pragma once
// Paths of the models scripts/make_test_models.py generates: $TORCHPROBE_TEST_MODELS_DIR when set
// (scripts/test-isa.sh: models exported under a restricted instruction set), else the build tree's.
#include <cstdlib>
#include <string>

namespace torchprobe::testing {

inline std::string test_models_dir() {
  const char* from_env = std::getenv("TORCHPROBE_TEST_MODELS_DIR");
  return from_env && *from_env ? from_env : TEST_MODELS_DIR;
}

inline std::string test_model(const std::string& name) {
  return test_models_dir() + "/" + name + ".pt";
}

}  // namespace torchprobe::testing
