#include "torchprobe/detail/zip_check.h"

#include <gtest/gtest.h>
#include <string>

#include "zip_archive_copy.h"

namespace torchprobe {
namespace {

class ZipCheck : public test_support::ZipArchiveCopyTest {
 protected:
  std::string problem() { return zip_archive_problem(write_copy(), bytes_.size()); }
};

TEST_F(ZipCheck, AcceptsTorchScriptArchivesAndOtherZips) {
  EXPECT_EQ(problem(), "");
  for (const char* model : {"tiny_gray_trace", "eager_pickle", "not_torchscript.zip"}) {
    const std::string file = testing::test_model(model);
    EXPECT_EQ(zip_archive_problem(file, read(file).size()), "") << model;
  }
}

TEST_F(ZipCheck, RefusesTheDirectoryProblemsOfZipDirectory) {
  set32(entry(code_) + 24, 1174406152);
  EXPECT_NE(problem().find("more than deflate expands"), std::string::npos) << problem();
}

// LibTorch 1.13 checks no CRC-32: this copy loaded with another weight.
TEST_F(ZipCheck, RefusesAStoredEntryThatDoesNotMatchItsCrc) {
  bytes_[data(entry("archive/data/0"))] ^= 1;
  EXPECT_EQ(problem(), "entry 'archive/data/0' does not match its CRC-32 (a corrupted copy?)");
}

// Found by model_load_fuzzer: a changed code file and debug pickle corrupted LibTorch's heap.
TEST_F(ZipCheck, RefusesADeflatedEntryThatDoesNotInflateToItsSizeOrCrc) {
  const std::size_t code = entry(code_);
  bytes_[data(code) + get32(code + 20) / 2] ^= 0xff;  // the middle of the deflate stream
  const std::string why = problem();
  EXPECT_TRUE(why == "entry '" + code_ + "' does not match its CRC-32 (a corrupted copy?)" ||
              why == "entry '" + code_ +
                         "' is damaged (its data does not inflate to the size the directory "
                         "records)")
      << why;
}

TEST_F(ZipCheck, RefusesADamagedLocalHeader) {
  const std::size_t code = entry(code_);
  bytes_[get32(code + 42)] = 'X';  // "PK\3\4" no longer
  EXPECT_EQ(problem(), "entry '" + code_ + "' has a damaged local header");
}

}  // namespace
}  // namespace torchprobe
