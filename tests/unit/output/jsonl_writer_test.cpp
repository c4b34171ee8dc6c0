#include "torchprobe/output/jsonl_writer.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/resource.h>

#include "file_size_limit.h"
#include "scratch_dir.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

namespace fs = std::filesystem;
using test_support::FileSizeLimit;

class JsonlWriterTest : public test_support::ScratchDirTest {
 protected:
  JsonlWriterTest() : ScratchDirTest("jsonl") {}
};

TEST_F(JsonlWriterTest, WritesTheHeaderAtOnceAndRecordsOnFlush) {
  std::string out = path("a.jsonl");
  JsonlWriter writer(out);
  writer.header({{"torchprobe", {{"version", "x"}}}, {"layers", {"conv1"}}});
  EXPECT_EQ(read(out), "{\"layers\":[\"conv1\"],\"torchprobe\":{\"version\":\"x\"}}\n");
  writer.record({{"id", "noise:1"}, {"values", {json_float(0.1f), 1}}});
  EXPECT_EQ(read(out).size(), 50u) << "a record is written on flush(), not before";
  writer.flush();
  writer.record({{"id", "noise:2"}});
  writer.finish();
  EXPECT_EQ(read(out),
            "{\"layers\":[\"conv1\"],\"torchprobe\":{\"version\":\"x\"}}\n"
            "{\"id\":\"noise:1\",\"values\":[0.1,1]}\n"
            "{\"id\":\"noise:2\"}\n");
}

TEST_F(JsonlWriterTest, RefusesAnExistingFileUnlessOverwritingOrAppending) {
  std::string out = path("b.jsonl");
  std::ofstream(out) << "{\"old\":1}\n";
  try {
    JsonlWriter writer(out);
    ADD_FAILURE() << "opened an existing file";
  } catch (const OutputError& e) {
    EXPECT_EQ(e.code(), ExitCode::kOutputExists);
    EXPECT_EQ(std::string(e.what()), "output '" + out + "' exists");
    EXPECT_EQ(e.hint_template(), "give {resume} to continue it, or {force} to overwrite it");
  }
  {
    JsonlWriter writer(out, {JsonlOpen::kAppend});
    writer.header({{"torchprobe", 1}});  // not written again when appending
    writer.record({{"id", "n"}});
    writer.finish();
  }
  EXPECT_EQ(read(out), "{\"old\":1}\n{\"id\":\"n\"}\n");
  {
    JsonlWriter writer(out, {JsonlOpen::kOverwrite});
    writer.header({{"torchprobe", 1}});
    writer.finish();
  }
  EXPECT_EQ(read(out), "{\"torchprobe\":1}\n");
}

TEST_F(JsonlWriterTest, DropsTheRecordsOfAnUnflushedBatch) {
  std::string out = path("c.jsonl");
  {
    JsonlWriter writer(out);
    writer.header({{"torchprobe", 1}});
    writer.record({{"id", "lost"}});
  }  // destroyed by an exception mid-batch, say
  EXPECT_EQ(read(out), "{\"torchprobe\":1}\n");
}

TEST_F(JsonlWriterTest, FullDiskCutsTheFileBackToItsLastCompleteLine) {
  std::string out = path("full.jsonl");
  const std::string header = "{\"torchprobe\":1}\n";
  const std::string first = "{\"id\":\"noise:1\",\"values\":[1,2,3]}\n";
  {
    FileSizeLimit limit(100);
    JsonlWriter writer(out);
    writer.header({{"torchprobe", 1}});
    writer.record({{"id", "noise:1"}, {"values", {1, 2, 3}}});
    writer.flush();
    for (int i = 0; i < 10; ++i) writer.record({{"id", "noise:" + std::to_string(i + 2)}});
    try {
      writer.flush();  // 10 records of 18-19 bytes: past the 100-byte limit
      ADD_FAILURE() << "the write past the file size limit succeeded";
    } catch (const OutputError& e) {
      EXPECT_EQ(e.code(), ExitCode::kOutput);
      EXPECT_EQ(std::string(e.what()), "cannot write output '" + out +
                                           "': the disk or the file size limit is full (" +
                                           std::strerror(EFBIG) + ")");
      EXPECT_NE(e.hint_template().find("{resume}"), std::string::npos) << e.hint_template();
    }
  }
  EXPECT_EQ(read(out), header + first) << "only the complete batches stay";
  // Appending (what resuming does) continues after the last complete line.
  JsonlWriter more(out, {JsonlOpen::kAppend});
  more.record({{"id", "noise:2"}});
  more.finish();
  EXPECT_EQ(read(out), header + first + "{\"id\":\"noise:2\"}\n");
}

TEST_F(JsonlWriterTest, FullDiskOnTheHeaderLeavesAnEmptyFile) {
  std::string out = path("header.jsonl");
  FileSizeLimit limit(8);
  JsonlWriter writer(out);
  EXPECT_THROW(writer.header({{"torchprobe", 1}}), OutputError);
  EXPECT_EQ(read(out), "");
}

TEST_F(JsonlWriterTest, UnwritableDirectoryIsAnOutputError) {
  try {
    JsonlWriter writer(path("missing/e.jsonl"));
    ADD_FAILURE();
  } catch (const OutputError& e) {
    EXPECT_EQ(e.code(), ExitCode::kOutput);
    EXPECT_NE(std::string(e.what()).find("cannot write output"), std::string::npos);
  }
}

}  // namespace
}  // namespace torchprobe
