#include "torchprobe/detail/atomic_file.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

#include "file_size_limit.h"
#include "scratch_dir.h"
#include "torchprobe/errors.h"
#include "torchprobe/output/json_document_writer.h"

namespace torchprobe {
namespace {

namespace fs = std::filesystem;
using test_support::FileSizeLimit;

class AtomicFileTest : public test_support::ScratchDirTest {
 protected:
  AtomicFileTest() : ScratchDirTest("atomic") {}
};

TEST_F(AtomicFileTest, DestinationAppearsOnlyOnCommit) {
  std::string out = path("a.json");
  AtomicFile file(out);
  file.stream() << "{}\n";
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::exists(file.temporary()));
  file.commit();
  EXPECT_EQ(read(out), "{}\n");
  EXPECT_EQ(files(), std::vector<std::string>{"a.json"});
}

TEST_F(AtomicFileTest, DestroyedWithoutCommitRemovesTheTemporaryFile) {
  std::string out = path("b.json");
  {
    AtomicFile file(out);
    file.stream() << "half";
  }
  EXPECT_TRUE(files().empty());
}

TEST_F(AtomicFileTest, FullDiskIsAnOutputErrorAndLeavesNoTemporaryFile) {
  std::string out = path("c.json");
  std::ofstream(out) << "previous\n";
  try {
    FileSizeLimit limit(4096);
    AtomicFile file(out);
    file.stream() << std::string(100000, 'x');
    file.commit();
    ADD_FAILURE() << "the write past the file size limit succeeded";
  } catch (const OutputError& e) {
    EXPECT_EQ(e.code(), ExitCode::kOutput);
    EXPECT_EQ(std::string(e.what()), "cannot write output '" + out +
                                         "': the disk or the file size limit is full (" +
                                         std::strerror(EFBIG) + ")");
    EXPECT_NE(e.hint().find("ulimit -f"), std::string::npos) << e.hint();
  }
  EXPECT_EQ(files(), std::vector<std::string>{"c.json"});
  EXPECT_EQ(read(out), "previous\n") << "an error leaves the previous result intact";
}

TEST_F(AtomicFileTest, JsonDocumentOnAFullDiskLeavesNoFile) {
  std::string out = path("d.json");
  {
    FileSizeLimit limit(1024);
    JsonDocumentWriter writer(out);
    writer.header({{"torchprobe", 1}});
    for (int i = 0; i < 200; ++i) writer.record({{"id", "noise:" + std::to_string(i)}});
    EXPECT_THROW(writer.finish(), OutputError);
  }
  EXPECT_TRUE(files().empty());
}

TEST_F(AtomicFileTest, MissingDirectoryIsAnOutputError) {
  try {
    AtomicFile file(path("missing/e.json"));
    ADD_FAILURE();
  } catch (const OutputError& e) {
    EXPECT_EQ(e.code(), ExitCode::kOutput);
    EXPECT_EQ(e.hint(), "check that the directory exists and is writable");
  }
}

}  // namespace
}  // namespace torchprobe
