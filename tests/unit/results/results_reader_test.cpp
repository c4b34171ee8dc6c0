#include "torchprobe/results/results_reader.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

// One line: the header line of JSON Lines.
const char* kHeader =
    R"("torchprobe": {"version": "0.1.0", "libtorch": "1.13"}, "layers": ["conv1"], "readout": "center")";

std::string document(const std::string& stimuli) {
  return std::string("{") + kHeader + ", \"stimuli\": [" + stimuli + "]}\n";
}

const char* kRecord =
    R"({"id": "noise:1", "input_shape": [1,3,8,8], "responses": {"conv1": {"shape": [2,4,4], "index": [2,2], "values": [0.1, -2]}}, "not_called": []})";

// Expects parse_results to throw ResultsFormatError whose message contains `fragment`.
void expect_error(const std::string& text, const std::string& fragment) {
  try {
    parse_results(text, "out.json");
    FAIL() << "no error for: " << text;
  } catch (const ResultsFormatError& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadResults);
    EXPECT_NE(std::string(e.what()).find("cannot read results 'out.json': "), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ResultsReader, ReadsAJsonDocument) {
  Results r = parse_results(document(kRecord), "out.json");
  EXPECT_EQ(r.format, Results::Format::kDocument);
  EXPECT_EQ(to_string(r.format), "json");
  EXPECT_FALSE(r.header.contains("stimuli"));
  EXPECT_EQ(r.header["readout"], "center");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["id"], "noise:1");
}

TEST(ResultsReader, ReadsJsonLines) {
  std::string text = std::string("{") + kHeader + "}\n" + kRecord + "\n\n" + kRecord + "\n";
  Results r = parse_results(text, "out.jsonl");
  EXPECT_EQ(r.format, Results::Format::kLines);
  EXPECT_EQ(r.header["layers"][0], "conv1");
  EXPECT_EQ(r.records.size(), 2u);
}

TEST(ResultsReader, ReadsJsonLinesWithOnlyAHeader) {
  Results r = parse_results(std::string("{") + kHeader + "}", "out.jsonl");
  EXPECT_EQ(r.format, Results::Format::kLines);
  EXPECT_TRUE(r.records.empty());
}

TEST(ResultsReader, ReadsACompactOneLineDocument) {
  std::string text = document(kRecord);
  text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
  Results r = parse_results(text + "\n", "out.json");
  EXPECT_EQ(r.format, Results::Format::kDocument);
  EXPECT_EQ(r.records.size(), 1u);
}

TEST(ResultsReader, AcceptsErrorRecordsAndUnknownFields) {
  Results r = parse_results(
      document(std::string(kRecord) + R"(, {"id": "bad.png", "index": 1, "error": "not an image"})")
          .insert(1, "\"future_field\": {\"x\": 1}, "),
      "out.json");
  EXPECT_EQ(r.records.size(), 2u);
  EXPECT_TRUE(r.header.contains("future_field"));
}

TEST(ResultsReader, RejectsAnEmptyFile) {
  expect_error("", "the file is empty");
  expect_error(" \n\n", "the file is empty");
}

TEST(ResultsReader, RejectsATruncatedDocument) {
  std::string text = document(kRecord);
  expect_error(text.substr(0, text.size() / 2), "truncated");
}

TEST(ResultsReader, RejectsJsonThatIsNotATorchprobeOutput) {
  expect_error("[1, 2, 3]\n", "not a torchprobe output");
  expect_error("{\"a\": 1}\n", "no \"torchprobe\" header field");
  expect_error(std::string("{") + kHeader + ", \"stimuli\": 3}", "no \"stimuli\" list");
}

TEST(ResultsReader, RejectsMalformedRecords) {
  expect_error(document(R"({"responses": {}})"), "stimulus record 1 has no string \"id\"");
  expect_error(document(R"({"id": "a"})"), "stimulus 'a' has no \"responses\" object");
  expect_error(document(R"({"id": "a", "responses": {"conv1": {"shape": [2]}}})"),
               "stimulus 'a' response 'conv1' has no \"values\"");
  expect_error(document(R"({"id": "a", "responses": {"conv1": {"values": [[1, 2], [3]]}}})"),
               "not a number or a rectangular list");
  expect_error(document(R"({"id": "a", "responses": {"conv1": {"values": ["x"]}}})"),
               "not a number or a rectangular list");
  expect_error(document(R"({"id": "a", "responses": {"conv1": {"values": [1], "shape": "2"}}})"),
               "\"shape\" is not a list of integers");
}

// Found by results_reader_fuzzer: nlohmann throws out_of_range, not parse_error, for 7e75743.
TEST(ResultsReader, RejectsANumberTooLargeForADouble) {
  expect_error("{\"lAyers\": [7e75743}}}\n", "not valid JSON: number overflow");
  std::string header = std::string("{") + kHeader + "}\n";
  expect_error(header + R"({"id": "a", "responses": {"c": {"values": [1e999]}}})" + "\n",
               "line 2 is not valid JSON");
}

// diff crashed (stack overflow) on values 300000 lists deep: flattening, comparing and printing
// recurse once per level.
TEST(ResultsReader, RejectsNestingDeeperThanTheBound) {
  const std::string deep = std::string(300000, '[') + "1" + std::string(300000, ']');
  const std::string bound =
      "nests arrays and objects more than 64 deep (not written by torchprobe)";
  std::string header = std::string("{") + kHeader + "}\n";
  expect_error(header + R"({"id": "a", "responses": {"c": {"values": )" + deep + "}}}\n",
               "line 2 " + bound);
  expect_error(std::string("{") + kHeader + ", \"extra\": " + deep + "}\n{\"id\": \"a\"}\n",
               "line 1 " + bound);
  expect_error(
      document(std::string(R"({"id": "a", "responses": {"c": {"values": )") + deep + "}}}"),
      "the JSON " + bound);
  // Brackets inside strings are text, not nesting.
  EXPECT_NO_THROW(parse_results(
      document(R"({"id": ")" + std::string(100, '[') + R"(", "error": "x"})"), "out.json"));
}

TEST(ResultsReader, NamesTheTornLastLineOfJsonLines) {
  std::string record = kRecord;
  std::string text = std::string("{") + kHeader + "}\n" + record + "\n" + record.substr(0, 30);
  expect_error(text, "line 3 is not valid JSON (the torn last line of an interrupted run?)");
}

TEST(ResultsReader, NamesTheFileWhenItIsMissing) {
  try {
    read_results("/nonexistent/out.json");
    FAIL();
  } catch (const ResultsFormatError& e) {
    EXPECT_STREQ(e.what(), "cannot read results '/nonexistent/out.json': no such file");
  }
}

TEST(FlattenValues, GivesRowMajorValuesAndDimensions) {
  std::vector<double> flat;
  std::vector<int64_t> dims;
  ASSERT_TRUE(flatten_values(nlohmann::json::parse("[[1, 2, 3], [4, 5, 6]]"), flat, dims));
  EXPECT_EQ(dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(flat, (std::vector<double>{1, 2, 3, 4, 5, 6}));

  ASSERT_TRUE(flatten_values(nlohmann::json::parse("2.5"), flat, dims));
  EXPECT_TRUE(dims.empty());
  EXPECT_EQ(flat, std::vector<double>{2.5});

  ASSERT_TRUE(flatten_values(nlohmann::json::parse("[[], []]"), flat, dims));
  EXPECT_EQ(dims, (std::vector<int64_t>{2, 0}));
  EXPECT_TRUE(flat.empty());
}

TEST(FlattenValues, ReadsNumbersAsFloat32AndNullAsNan) {
  std::vector<double> flat;
  std::vector<int64_t> dims;
  ASSERT_TRUE(flatten_values(nlohmann::json::parse("[0.1, null]"), flat, dims));
  EXPECT_EQ(flat[0], double(0.1f));
  EXPECT_TRUE(std::isnan(flat[1]));
}

TEST(FlattenValues, RejectsRaggedAndNonNumericValues) {
  std::vector<double> flat;
  std::vector<int64_t> dims;
  for (const char* text : {"[[1, 2], [3]]", "[1, [2]]", "[[1], 2]", "[[[1]], [2]]", "[\"a\"]",
                           "{\"a\": 1}", "[[], [1]]", "true"}) {
    EXPECT_FALSE(flatten_values(nlohmann::json::parse(text), flat, dims)) << text;
  }
}

}  // namespace
}  // namespace torchprobe
