#include "torchprobe/detail/zip_directory.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "zip_archive_copy.h"

namespace torchprobe {
namespace {

class ZipDirectory : public test_support::ZipArchiveCopyTest {
 protected:
  // read_zip_directory() of the changed copy.
  std::string problem() {
    std::vector<ZipEntry> entries;
    return read_zip_directory(write_copy(), bytes_.size(), entries);
  }
};

TEST_F(ZipDirectory, ReadsTheEntriesOfATorchScriptArchive) {
  std::vector<ZipEntry> entries;
  EXPECT_EQ(read_zip_directory(write_copy(), bytes_.size(), entries), "");
  ASSERT_GT(entries.size(), 5u);
  EXPECT_EQ(entries.front().name, "archive/extra/torchprobe.json");
  EXPECT_EQ(entries.front().local_offset, 0u);
  const std::size_t code = entry(code_);
  for (const ZipEntry& e : entries) {
    if (e.name != code_) continue;
    EXPECT_EQ(e.method, 8u);
    EXPECT_EQ(e.compressed, get32(code + 20));
    EXPECT_EQ(e.uncompressed, get32(code + 24));
    EXPECT_EQ(e.crc32, get32(code + 16));
  }
}

// Found by model_load_fuzzer: a code file declaring 1.2 GB made LibTorch allocate it (7 GB
// resident, 22 s) before inflating 412 bytes.
TEST_F(ZipDirectory, RefusesADeflatedEntryDeclaringMoreThanDeflateExpands) {
  ASSERT_EQ(get16(entry(code_) + 10), 8u) << "deflated";
  const uint32_t compressed = get32(entry(code_) + 20);
  set32(entry(code_) + 24, compressed * 1032);
  EXPECT_EQ(problem(), "");
  set32(entry(code_) + 24, 1174406152);
  EXPECT_EQ(problem(), "entry '" + code_ + "' declares 1174406152 bytes from " +
                           std::to_string(compressed) +
                           " compressed, more than deflate expands (1032:1)");
}

TEST_F(ZipDirectory, RefusesAStoredEntryWhoseSizesDiffer) {
  ASSERT_EQ(get16(entry(data_) + 10), 0u) << "stored";
  const uint32_t size = get32(entry(data_) + 20);
  set32(entry(data_) + 24, size + 1);
  EXPECT_EQ(problem(), "entry '" + data_ + "' is stored in " + std::to_string(size) +
                           " bytes but declares " + std::to_string(size + 1));
}

TEST_F(ZipDirectory, RefusesDataPastTheEndOfTheFile) {
  set32(entry(code_) + 42, uint32_t(bytes_.size() - 100));
  EXPECT_EQ(problem(), "entry '" + code_ + "' lies past the end of the file");
}

TEST_F(ZipDirectory, RefusesADirectoryPastTheEndOfTheFile) {
  const std::size_t end = bytes_.rfind(std::string("PK\x05\x06", 4));
  set32(end + 16, uint32_t(bytes_.size()));
  EXPECT_EQ(problem(), "its central directory lies past the end of the file");
  set32(end + 16, 0);  // the directory's offset now points at a local header
  EXPECT_EQ(problem(), "its central directory is damaged at entry 1");
}

}  // namespace
}  // namespace torchprobe
