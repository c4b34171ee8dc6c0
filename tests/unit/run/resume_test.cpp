#include "torchprobe/run/resume.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <unistd.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

namespace fs = std::filesystem;

TEST(HeaderDifference, NamesTheFirstDifferingFieldInKeyOrder) {
  nlohmann::json a = {{"layers", {"conv1"}},
                      {"model", {{"path", "a.pt"}, {"sha256", "11"}}},
                      {"readout", "center"}};
  nlohmann::json b = {
      {"layers", {"conv1"}}, {"model", {{"path", "b.pt"}, {"sha256", "22"}}}, {"readout", "mean"}};
  EXPECT_EQ(header_difference(a, b, {"model.path"}),
            "'model.sha256' is \"11\" there and \"22\" here");
  b["model"]["sha256"] = "11";
  EXPECT_EQ(header_difference(a, b, {"model.path"}),
            "'readout' is \"center\" there and \"mean\" here");
  b["readout"] = "center";
  EXPECT_EQ(header_difference(a, b, {"model.path"}), "");
  EXPECT_EQ(header_difference(a, b, {}), "'model.path' is \"a.pt\" there and \"b.pt\" here");
  b["shard"] = {{"index", 1}};
  EXPECT_EQ(header_difference(a, b, {"model.path"}),
            "'shard' is absent there and {\"index\":1} here");
  EXPECT_EQ(header_difference(a, b, {"model.path", "shard"}), "");
}

class PrepareResume : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() /
             ("torchprobe-resume-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl"))
                .string();
    for (const char* text : {"noise:1", "noise:2", "noise:3"}) {
      stimuli_.push_back(StimulusSpec::parse(text));
    }
  }
  void TearDown() override { fs::remove(path_); }
  void write(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }
  std::string read() const {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string path_;
  std::vector<StimulusSpec> stimuli_;
  const nlohmann::json header_ = {{"torchprobe", {{"version", "1"}}}, {"layers", {"c"}}};
  const std::string header_line_ = "{\"layers\":[\"c\"],\"torchprobe\":{\"version\":\"1\"}}\n";
  const std::string record0_ = "{\"id\":\"noise:1\",\"index\":0,\"responses\":{}}\n";
  const std::string record1_ = "{\"error\":\"bad\",\"id\":\"noise:2\",\"index\":1}\n";
};

TEST_F(PrepareResume, MissingOrEmptyFilesStartAfresh) {
  ResumePoint point = prepare_resume(path_, header_, stimuli_, {0, 1, 2});
  EXPECT_TRUE(point.fresh);
  write("{\"torchprobe\":{\"ver");  // a torn header
  point = prepare_resume(path_, header_, stimuli_, {0, 1, 2});
  EXPECT_TRUE(point.fresh);
  EXPECT_EQ(read(), "");
}

TEST_F(PrepareResume, CountsCompleteRecordsAndCutsATornLine) {
  write(header_line_ + record0_ + record1_ + "{\"id\":\"noise:3\",\"ind");
  ResumePoint point = prepare_resume(path_, header_, stimuli_, {0, 1, 2});
  EXPECT_FALSE(point.fresh);
  EXPECT_EQ(point.done, 2);
  EXPECT_EQ(point.bad, 1);
  EXPECT_EQ(point.cut_bytes, 20u);
  EXPECT_EQ(read(), header_line_ + record0_ + record1_);
}

TEST_F(PrepareResume, RefusesAnotherRunsFile) {
  write(header_line_ + record0_);
  nlohmann::json other = header_;
  other["layers"] = {"d"};
  try {
    prepare_resume(path_, other, stimuli_, {0, 1, 2});
    ADD_FAILURE();
  } catch (const ResultsFormatError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot resume '" + path_ +
                                         "': it was written by a different run: 'layers' is "
                                         "[\"c\"] there and [\"d\"] here");
    EXPECT_EQ(e.code(), ExitCode::kBadResults);
  }
  EXPECT_EQ(read(), header_line_ + record0_) << "the file is left alone";
}

TEST_F(PrepareResume, RefusesRecordsThatAreNotThisRunsFirstStimuli) {
  write(header_line_ + record1_);
  try {
    prepare_resume(path_, header_, stimuli_, {0, 1, 2});
    ADD_FAILURE();
  } catch (const ResultsFormatError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot resume '" + path_ +
                                         "': line 2 is stimulus 1 'noise:2', but this run's "
                                         "next is 0 'noise:1'");
  }
  // A shard: its first stimulus is 1.
  EXPECT_EQ(prepare_resume(path_, header_, stimuli_, {1, 2}).done, 1);
}

// The shard of the file's header is compared with this run's, never used: a damaged one is just
// another run's file.
TEST_F(PrepareResume, RefusesAFileWhoseHeaderNamesAnotherShard) {
  nlohmann::json mine = header_;
  mine["shard"] = {{"index", 1}, {"count", 2}, {"stimuli", 2}};
  nlohmann::json there = mine;
  there["shard"]["index"] = 0;
  write(there.dump() + "\n" + record0_);
  try {
    prepare_resume(path_, mine, stimuli_, {0, 2});
    ADD_FAILURE();
  } catch (const ResultsFormatError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot resume '" + path_ +
                                         "': it was written by a different run: 'shard.index' is "
                                         "0 there and 1 here");
  }
}

// --resume crashed (stack overflow) naming the difference: it printed a header value nested
// 300000 lists deep. Such a line is refused before it is compared.
TEST_F(PrepareResume, RefusesAHeaderNestedDeeperThanTheBound) {
  const std::string deep = std::string(300000, '[') + std::string(300000, ']');
  write("{\"layers\":" + deep + ",\"torchprobe\":{\"version\":\"1\"}}\n" + record0_);
  try {
    prepare_resume(path_, header_, stimuli_, {0, 1, 2});
    ADD_FAILURE();
  } catch (const ResultsFormatError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read results '" + path_ +
                                         "': line 1 nests arrays and objects more than 64 deep "
                                         "(not written by torchprobe)");
  }
}

}  // namespace
}  // namespace torchprobe
