#pragma once
// Test helper: a copy of a real TorchScript archive (a test model) whose bytes a test changes,
// written to the test's scratch directory.
//
//   class ZipTest : public torchprobe::test_support::ZipArchiveCopyTest {};
//   TEST_F(ZipTest, X) { set32(entry("archive/data.pkl") + 24, 1); check(write_copy()); }
#include <cstdint>
#include <fstream>
#include <gtest/gtest.h>
#include <string>

#include "scratch_dir.h"
#include "test_models.h"

namespace torchprobe::test_support {

class ZipArchiveCopyTest : public ScratchDirTest {
 protected:
  ZipArchiveCopyTest() : ScratchDirTest("zip") {}
  void SetUp() override {
    ScratchDirTest::SetUp();
    bytes_ = read(testing::test_model("tiny_gray_script"));
    ASSERT_GT(bytes_.size(), 1000u);
  }

  // Where the central directory entry of `name` starts: a 46-byte header, then the name.
  std::size_t entry(const std::string& name) const {
    for (std::size_t at = bytes_.rfind(name); at != std::string::npos && at >= 46;
         at = bytes_.rfind(name, at - 1)) {
      if (bytes_.compare(at - 46, 4, "PK\x01\x02") == 0 && get16(at - 46 + 28) == name.size()) {
        return at - 46;
      }
    }
    ADD_FAILURE() << "no directory entry " << name;
    return 0;
  }
  // Where the data of the entry whose directory header is at `header` starts.
  std::size_t data(std::size_t header) const {
    const std::size_t local = get32(header + 42);
    return local + 30 + get16(local + 26) + get16(local + 28);
  }
  uint32_t get16(std::size_t at) const {
    return uint32_t(uint8_t(bytes_[at])) | uint32_t(uint8_t(bytes_[at + 1])) << 8;
  }
  uint32_t get32(std::size_t at) const { return get16(at) | get16(at + 2) << 16; }
  void set32(std::size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) bytes_[at + std::size_t(i)] = char(value >> (8 * i) & 0xff);
  }
  // The changed copy's path.
  std::string write_copy() {
    std::ofstream(path("m.pt"), std::ios::binary) << bytes_;
    return path("m.pt");
  }

  std::string bytes_;
  const std::string code_ = "archive/code/__torch__/testmodels.py";  // deflated
  const std::string data_ = "archive/data.pkl";                      // stored
};

}  // namespace torchprobe::test_support
