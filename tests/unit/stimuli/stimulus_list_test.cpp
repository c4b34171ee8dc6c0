#include "torchprobe/stimuli/stimulus_list.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ids(const std::vector<StimulusSpec>& specs) {
  std::vector<std::string> out;
  for (const auto& s : specs) out.push_back(s.id);
  return out;
}

// A scratch directory with empty files (expansion looks at names only).
class StimulusListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("torchprobe_list_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void touch(const std::string& relative, const std::string& text = "") {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }
  std::string path(const std::string& relative = "") const { return (root_ / relative).string(); }
  fs::path root_;
};

TEST(Sweep, RangesAndListsGiveTheCartesianProductLastFieldFastest) {
  auto specs = expand_sweep("grating:ori=0:180:45,sf=2|4@32x32");
  ASSERT_EQ(specs.size(), 8u);
  EXPECT_EQ(specs[0].id, "grating:ori=0,sf=2,phase=0,contrast=1,mean=0.5@32x32");
  EXPECT_EQ(specs[1].id, "grating:ori=0,sf=4,phase=0,contrast=1,mean=0.5@32x32");
  EXPECT_EQ(specs[7].id, "grating:ori=135,sf=4,phase=0,contrast=1,mean=0.5@32x32");
}

TEST(Sweep, StopIsExclusiveAndStepsAreRoundedTo12Digits) {
  EXPECT_EQ(expand_sweep("grating:ori=0:180:15").size(), 12u);
  EXPECT_EQ(ids(expand_sweep("uniform:0:1:0.1")).at(3), "uniform:0.3");
  EXPECT_EQ(expand_sweep("uniform:0:1:0.1").size(), 10u);
  EXPECT_EQ(ids(expand_sweep("uniform:1:0:-0.5")),
            (std::vector<std::string>{"uniform:1", "uniform:0.5"}));
  EXPECT_EQ(ids(expand_sweep("noise:1:4,dist=uniform|normal")),
            (std::vector<std::string>{"noise:1", "noise:1,dist=normal", "noise:2",
                                      "noise:2,dist=normal", "noise:3", "noise:3,dist=normal"}));
  EXPECT_EQ(ids(expand_sweep("grating:ori=0:90:45|90")).size(), 3u);
}

TEST(Sweep, BadSweepsAreStimulusErrors) {
  for (const char* bad :
       {"cat.png", "grating:ori=0:0:15", "grating:ori=0:10:0", "grating:ori=a:b",
        "grating:ori=0:1:2:3", "noise:0:1000000", "grating:ori=0:1000:1,sf=0:1000:1"}) {
    EXPECT_THROW(expand_sweep(bad), StimulusError) << bad;
  }
}

TEST_F(StimulusListTest, DirectoryGivesItsImagesSortedByRelativePath) {
  touch("b.png");
  touch("a.JPG");
  touch("B.jpeg");
  touch("notes.txt");
  touch(".hidden.png");
  touch("sub/c.png");
  std::vector<std::string> warnings;
  auto specs = expand_stimuli({path()}, {}, warnings);
  EXPECT_EQ(ids(specs), (std::vector<std::string>{"B.jpeg", "a.JPG", "b.png"}));
  EXPECT_EQ(specs[0].path, path("B.jpeg"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("skipped 1 file"), std::string::npos) << warnings[0];
}

TEST_F(StimulusListTest, RecursiveDirectoryDescendsSortedByRelativePath) {
  touch("b.png");
  touch("a/z.png");
  touch("a/b/c.png");
  touch(".git/x.png");
  std::vector<std::string> warnings;
  ExpandOptions options;
  options.recursive = true;
  EXPECT_EQ(ids(expand_stimuli({path()}, options, warnings)),
            (std::vector<std::string>{"a/b/c.png", "a/z.png", "b.png"}));
}

TEST_F(StimulusListTest, DirectoryWithoutImagesSuggestsRecursive) {
  touch("sub/c.png");
  std::vector<std::string> warnings;
  try {
    expand_stimuli({path()}, {}, warnings);
    FAIL();
  } catch (const StimulusError& e) {
    EXPECT_NE(std::string(e.what()).find("has no image files"), std::string::npos);
    EXPECT_NE(e.hint_template().find("{recursive}"), std::string::npos);
  }
}

TEST_F(StimulusListTest, ListFileWithCommentsAndRelativePaths) {
  touch("imgs/cat.png");
  touch("imgs/more/dog.png");
  touch("lists/list.txt",
        "# header comment\n"
        "\n"
        "../imgs/cat.png   # trailing comment\n"
        "  uniform:0.5@8x8\n"
        "../imgs/more\n"
        "@nested.txt\n");
  touch("lists/nested.txt", "noise:3\n");
  std::vector<std::string> warnings;
  auto specs = expand_stimuli({"@" + path("lists/list.txt"), "noise:4"}, {}, warnings);
  EXPECT_EQ(ids(specs), (std::vector<std::string>{"../imgs/cat.png", "uniform:0.5@8x8", "dog.png",
                                                  "noise:3", "noise:4"}));
  EXPECT_EQ(fs::path(specs[0].path), root_ / "lists" / "../imgs/cat.png");
}

TEST_F(StimulusListTest, ListErrorsNameTheListAndLine) {
  touch("list.txt", "# only\nmissing.png\n");
  touch("loop.txt", "@loop.txt\n");
  touch("empty.txt", "# nothing\n");
  std::vector<std::string> warnings;
  try {
    expand_stimuli({"@" + path("list.txt")}, {}, warnings);
    FAIL();
  } catch (const StimulusError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png': no such file"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("line 2 of"), std::string::npos) << e.what();
  }
  EXPECT_THROW(expand_stimuli({"@" + path("loop.txt")}, {}, warnings), StimulusError);
  EXPECT_THROW(expand_stimuli({"@" + path("empty.txt")}, {}, warnings), StimulusError);
  EXPECT_THROW(expand_stimuli({"@" + path("nope.txt")}, {}, warnings), StimulusError);
}

TEST_F(StimulusListTest, RepeatedIdsAreRejected) {
  touch("x/cat.png");
  touch("y/cat.png");
  std::vector<std::string> warnings;
  try {
    expand_stimuli({path("x"), path("y")}, {}, warnings);
    FAIL();
  } catch (const StimulusError& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate stimulus id 'cat.png'"), std::string::npos);
  }
  EXPECT_THROW(expand_stimuli({"uniform:1", "uniform:1.0"}, {}, warnings), StimulusError);
}

TEST_F(StimulusListTest, SweepsComeAfterTheArguments) {
  std::vector<std::string> warnings;
  ExpandOptions options;
  options.sweeps = {"uniform:0|1"};
  EXPECT_EQ(ids(expand_stimuli({"noise:1"}, options, warnings)),
            (std::vector<std::string>{"noise:1", "uniform:0", "uniform:1"}));
}

}  // namespace
}  // namespace torchprobe
