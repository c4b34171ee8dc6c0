#include "torchprobe/results/jsonl_reader.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

namespace fs = std::filesystem;

std::string write_file(const std::string& name, const std::string& text) {
  fs::path path =
      fs::temp_directory_path() / ("torchprobe-reader-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

TEST(JsonlReader, ReturnsCompleteLinesAndHoldsBackATornLastLine) {
  std::string path = write_file("torn.jsonl", "{\"torchprobe\":{}}\n{\"id\":\"a\"}\n{\"id\":\"b");
  JsonlReader in(path);
  std::string line;
  ASSERT_TRUE(in.next_line(line));
  EXPECT_EQ(in.parse_header(line)["torchprobe"], nlohmann::json::object());
  ASSERT_TRUE(in.next_line(line));
  EXPECT_EQ(in.parse_object(line)["id"], "a");
  EXPECT_EQ(in.line_number(), 2);
  EXPECT_FALSE(in.next_line(line));
  EXPECT_TRUE(in.torn());
  EXPECT_EQ(in.complete_bytes(), 29u);
  fs::remove(path);
}

TEST(JsonlReader, AFileEndingInANewlineIsNotTorn) {
  std::string path = write_file("whole.jsonl", "{\"torchprobe\":{}}\n");
  JsonlReader in(path);
  std::string line;
  EXPECT_TRUE(in.next_line(line));
  EXPECT_FALSE(in.next_line(line));
  EXPECT_FALSE(in.torn());
  EXPECT_EQ(in.complete_bytes(), 18u);
  fs::remove(path);
}

TEST(JsonlReader, RejectsWhatIsNotATorchprobeHeader) {
  for (const char* first : {"[1,2]", "{\"a\":1}", "{\"torchprobe\":{},\"stimuli\":[]}", "{oops"}) {
    std::string path = write_file("bad.jsonl", std::string(first) + "\n");
    JsonlReader in(path);
    std::string line;
    ASSERT_TRUE(in.next_line(line));
    try {
      in.parse_header(line);
      ADD_FAILURE() << first;
    } catch (const ResultsFormatError& e) {
      EXPECT_EQ(std::string(e.what()), "cannot read results '" + path +
                                           "': not a torchprobe JSON Lines output (the first "
                                           "line is not a header)");
    }
    fs::remove(path);
  }
}

// merge to a JSON document and --resume crashed (stack overflow) printing values nested 300000
// deep: both read through parse_object/parse_header.
TEST(JsonlReader, RejectsLinesNestedDeeperThanTheBound) {
  const std::string deep = std::string(300000, '[') + std::string(300000, ']');
  std::string path = write_file("deep.jsonl", "{\"torchprobe\":{},\"layers\":" + deep +
                                                  "}\n{\"id\":\"a\",\"x\":" + deep + "}\n");
  const std::string why = " nests arrays and objects more than 64 deep (not written by torchprobe)";
  JsonlReader in(path);
  std::string line;
  ASSERT_TRUE(in.next_line(line));
  try {
    in.parse_header(line);
    ADD_FAILURE();
  } catch (const ResultsFormatError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read results '" + path + "': line 1" + why);
  }
  ASSERT_TRUE(in.next_line(line));
  try {
    in.parse_object(line);
    ADD_FAILURE();
  } catch (const ResultsFormatError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read results '" + path + "': line 2" + why);
  }
  fs::remove(path);
}

TEST(JsonlReader, MissingFileIsAResultsFormatError) {
  EXPECT_THROW(JsonlReader("/nonexistent/x.jsonl"), ResultsFormatError);
}

TEST(JsonlReader, JsonlPathsByExtension) {
  EXPECT_TRUE(is_jsonl_path("a.jsonl"));
  EXPECT_TRUE(is_jsonl_path("dir/A.JSONL"));
  EXPECT_FALSE(is_jsonl_path("a.json"));
  EXPECT_FALSE(is_jsonl_path("jsonl"));
  EXPECT_FALSE(is_jsonl_path("-"));
}

}  // namespace
}  // namespace torchprobe
