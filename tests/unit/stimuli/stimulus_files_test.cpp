#include "torchprobe/stimuli/stimulus_files.h"

#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>

#include "scratch_dir.h"

namespace torchprobe {
namespace {

TEST(StimulusFileStem, KeepsSafeBytesAndEscapesTheOthers) {
  EXPECT_EQ(stimulus_file_stem("cat.png"), "cat.png");
  EXPECT_EQ(stimulus_file_stem("a/b.jpg"), "a%2Fb.jpg");
  EXPECT_EQ(stimulus_file_stem("a_b.jpg"), "a_b.jpg");
  EXPECT_EQ(stimulus_file_stem("grating:ori=45,sf=4@32x32"), "grating%3Aori=45,sf=4@32x32");
  EXPECT_EQ(stimulus_file_stem(".hidden"), "%2Ehidden");
  EXPECT_EQ(stimulus_file_stem("100%"), "100%25");
  EXPECT_EQ(stimulus_file_stem(""), "%");
}

TEST(StimulusFileStem, IsInjectiveOnIdsThatUsedToCollide) {
  const std::vector<std::string> ids = {"a/b.jpg", "a_b.jpg", "a%2Fb.jpg", "a:b.jpg", "a b.jpg",
                                        ".a",      "_a",      "%2Ea",      "a~b",     "a%7Eb"};
  std::set<std::string> stems;
  for (const auto& id : ids) stems.insert(stimulus_file_stem(id));
  EXPECT_EQ(stems.size(), ids.size());
}

TEST(StimulusFileStem, LongIdsKeepAPrefixAndAHashAndStayDistinct) {
  const std::string a = std::string(300, 'x') + "a", b = std::string(300, 'x') + "b";
  const std::string stem_a = stimulus_file_stem(a), stem_b = stimulus_file_stem(b);
  EXPECT_NE(stem_a, stem_b);
  EXPECT_LE(stem_a.size(), 200u);
  EXPECT_EQ(stem_a.substr(0, 181), std::string(180, 'x') + "~");
  // Never cut inside a %XX escape.
  const std::string slashes = stimulus_file_stem(std::string(100, '/'));
  EXPECT_EQ(slashes.find('~') % 3, 0u);
}

class StimulusFileManifest : public test_support::ScratchDirTest {
 protected:
  StimulusFileManifest() : ScratchDirTest("manifest") {}
};

TEST_F(StimulusFileManifest, ListsEachIdWithItsFileInOrder) {
  write_file_manifest(dir_.string(), {{"a/b.jpg", "a%2Fb.jpg.npy"}, {"a_b.jpg", "a_b.jpg.npy"}});
  std::ifstream in(path("manifest.json"));
  const auto manifest = nlohmann::json::parse(in);
  ASSERT_EQ(manifest["files"].size(), 2u);
  EXPECT_EQ(manifest["files"][0]["id"], "a/b.jpg");
  EXPECT_EQ(manifest["files"][0]["file"], "a%2Fb.jpg.npy");
  EXPECT_EQ(manifest["files"][1]["id"], "a_b.jpg");
}

}  // namespace
}  // namespace torchprobe
