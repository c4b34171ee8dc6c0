#pragma once
// Test helper: a fresh directory per test, removed afterwards, and small file helpers.
//
//   class WriterTest : public torchprobe::test_support::ScratchDirTest {
//    protected:
//     WriterTest() : ScratchDirTest("writer") {}
//   };
//   TEST_F(WriterTest, Writes) { write_something(path("a.json")); EXPECT_EQ(read(path("a.json")),
//   "{}"); }
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace torchprobe::test_support {

class ScratchDirTest : public ::testing::Test {
 protected:
  explicit ScratchDirTest(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("torchprobe-" + prefix_ + "-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // The names of the files in the directory (unsorted).
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename());
    }
    return names;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;

 private:
  std::string prefix_;
};

}  // namespace torchprobe::test_support
