#include "torchprobe/results/diff.h"

#include <cmath>
#include <gtest/gtest.h>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

using nlohmann::json;

// A small output: stimuli "a" and "b", layers "conv1" (center readout of a [4,3,3] map: 4 values)
// and "pool" (a full 2x2x2 readout).
json output() {
  json doc = {{"torchprobe", {{"version", "0.1.0"}, {"libtorch", "1.13"}}},
              {"model", {{"path", "m.pt"}, {"sha256", "aa"}, {"mode", "eval"}}},
              {"layers", {"conv1", "pool"}},
              {"readout", "center"},
              {"truncated", true},
              {"preprocess", {{"name", "none"}, {"mean", json::array()}, {"size", {8, 8}}}},
              {"stimuli", json::array()}};
  for (const char* id : {"a", "b"}) {
    json record = {{"id", id}, {"input_shape", {1, 3, 8, 8}}, {"not_called", json::array()}};
    record["responses"]["conv1"] = {
        {"shape", {4, 3, 3}}, {"index", {1, 1}}, {"values", {0.5, -1.0, 2.0, 0.0}}};
    record["responses"]["pool"] = {
        {"shape", {2, 2, 2}},
        {"index", json::array()},
        {"values", {{{1.0, 2.0}, {3.0, 4.0}}, {{5.0, 6.0}, {7.0, 8.0}}}}};
    doc["stimuli"].push_back(record);
  }
  return doc;
}

Results results(const json& doc, const std::string& name) {
  return parse_results(doc.dump(), name);
}

DiffReport diff(const json& a, const json& b, Tolerance tolerance = {}) {
  return diff_results(results(a, "a.json"), results(b, "b.json"), tolerance);
}

TEST(Diff, AnOutputEqualsItself) {
  DiffReport report = diff(output(), output());
  EXPECT_TRUE(report.same());
  EXPECT_EQ(report.stimuli_compared, 2);
  EXPECT_EQ(report.responses_compared, 4);
  EXPECT_EQ(report.values_compared, 24);
  EXPECT_EQ(report.values_out_of_tolerance, 0);
  ASSERT_EQ(report.layers.size(), 2u);
  EXPECT_EQ(report.to_json()["result"], "same");
}

TEST(Diff, NamesStimulusLayerAndChannelOfAValueOutOfTolerance) {
  json b = output();
  const double v = 2.0, tolerance = kDefaultAtol + kDefaultRtol * v;
  b["stimuli"][1]["responses"]["conv1"]["values"][2] = v + 2 * tolerance;
  DiffReport report = diff(output(), b);
  ASSERT_EQ(report.differences.size(), 1u);
  const Difference& d = report.differences[0];
  EXPECT_EQ(d.kind, Difference::Kind::kValues);
  EXPECT_EQ(d.stimulus, "b");
  EXPECT_EQ(d.layer, "conv1");
  EXPECT_EQ(d.out_of_tolerance, 1);
  EXPECT_EQ(d.values, 4);
  ASSERT_TRUE(d.worst);
  EXPECT_EQ(d.worst->channel(), 2);
  EXPECT_EQ(d.worst->index, 2);
  EXPECT_NEAR(d.worst->abs_error, 2 * tolerance, 1e-6);
  EXPECT_NE(d.message().find("stimulus 'b' layer 'conv1': 1 of 4 values out of tolerance; "
                             "worst at channel 2 (index 2)"),
            std::string::npos)
      << d.message();
  EXPECT_EQ(report.to_json()["differences"][0]["worst"]["channel"], 2);
}

TEST(Diff, AValueWithinToleranceIsNotADifference) {
  json b = output();
  b["stimuli"][0]["responses"]["conv1"]["values"][2] =
      2.0 + 0.5 * (kDefaultAtol + kDefaultRtol * 2);
  DiffReport report = diff(output(), b);
  EXPECT_TRUE(report.same());
  ASSERT_TRUE(report.max_abs);
  EXPECT_GT(report.max_abs->abs_error, 0);
  EXPECT_EQ(report.max_abs->stimulus, "a");
}

TEST(Diff, ToleranceIsRelativeToTheBaseline) {
  json b = output();
  b["stimuli"][0]["responses"]["pool"]["values"][1][1][1] = 8.8;  // 10% of the baseline 8
  EXPECT_FALSE(diff(output(), b, {0.09, 0}).same());
  EXPECT_TRUE(diff(output(), b, {0.11, 0}).same());
  // The baseline is the reference: |8.8 - 8| > 0.095 * 8 but <= 0.095 * 8.8.
  EXPECT_FALSE(diff(output(), b, {0.095, 0}).same());
  EXPECT_TRUE(diff(b, output(), {0.095, 0}).same());
}

TEST(Diff, ScaledToleranceIsAFractionOfTheResponsesLargestMagnitude) {
  // pool's values reach 8: a change of 0.05 at its smallest value (1) is 5% there but 0.6% of 8.
  json b = output();
  b["stimuli"][0]["responses"]["pool"]["values"][0][0][0] = 1.05;
  EXPECT_FALSE(diff(output(), b, {0, 0, 0.006}).same());
  EXPECT_TRUE(diff(output(), b, {0, 0, 0.007}).same());
  // Per response: conv1's largest magnitude is 2, so the same fraction allows less there.
  json c = output();
  c["stimuli"][0]["responses"]["conv1"]["values"][3] = 0.05;
  EXPECT_FALSE(diff(output(), c, {0, 0, 0.007}).same());
  EXPECT_TRUE(diff(output(), c, {0, 0, 0.026}).same());
  EXPECT_NE(diff(output(), c, {0, 0, 0.026})
                .to_json()["tolerance"]["rule"]
                .get<std::string>()
                .find("scale_tol * max|baseline of the response|"),
            std::string::npos);
}

TEST(Diff, GivesThePositionInAFullReadout) {
  json b = output();
  b["stimuli"][0]["responses"]["pool"]["values"][1][0][1] = 6.5;
  DiffReport report = diff(output(), b);
  ASSERT_EQ(report.differences.size(), 1u);
  const auto& worst = *report.differences[0].worst;
  EXPECT_EQ(worst.position, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(worst.index, 5);
  EXPECT_EQ(worst.channel(), 1);
  ASSERT_TRUE(worst.rel_error);
  EXPECT_NEAR(*worst.rel_error, 0.5 / 6.0, 1e-7);
  EXPECT_NE(report.differences[0].message().find("channel 1 at (0,1)"), std::string::npos);
}

TEST(Diff, ReportsMaxRelativeErrorOnlyWhereTheBaselineIsNotZero) {
  json b = output();
  b["stimuli"][0]["responses"]["conv1"]["values"][3] = 1e-7;  // baseline 0: no relative error
  b["stimuli"][0]["responses"]["conv1"]["values"][0] = 0.5 + 1e-7;
  DiffReport report = diff(output(), b);
  EXPECT_TRUE(report.same());
  ASSERT_TRUE(report.max_rel);
  EXPECT_EQ(report.max_rel->index, 0);
}

TEST(Diff, NanEqualsNanButNotANumber) {
  json a = output(), b = output();
  a["stimuli"][0]["responses"]["conv1"]["values"][1] = nullptr;
  b["stimuli"][0]["responses"]["conv1"]["values"][1] = nullptr;
  EXPECT_TRUE(diff(a, b).same());
  DiffReport report = diff(a, output());
  ASSERT_EQ(report.differences.size(), 1u);
  EXPECT_TRUE(std::isinf(report.differences[0].worst->abs_error));
  EXPECT_TRUE(report.to_json()["differences"][0]["worst"]["abs_error"].is_null());
}

TEST(Diff, ReportsAChangedShapeAndSkipsItsValues) {
  json b = output();
  b["stimuli"][0]["responses"]["conv1"]["shape"] = {4, 5, 5};
  b["stimuli"][0]["responses"]["conv1"]["index"] = {2, 2};
  DiffReport report = diff(output(), b);
  ASSERT_EQ(report.differences.size(), 1u);
  EXPECT_EQ(report.differences[0].kind, Difference::Kind::kShape);
  EXPECT_EQ(report.differences[0].baseline, json({4, 3, 3}));
  EXPECT_EQ(report.differences[0].candidate, json({4, 5, 5}));
  EXPECT_EQ(report.responses_different, 1);
}

TEST(Diff, ReportsMissingAndExtraLayersAndStimuli) {
  json b = output();
  b["stimuli"][1]["responses"].erase("pool");
  b["stimuli"][0]["responses"]["fc"] = {{"shape", {3}}, {"values", {1, 2, 3}}};
  b["stimuli"].push_back(b["stimuli"][0]);
  b["stimuli"][2]["id"] = "c";
  json a = output();
  a["stimuli"].push_back(a["stimuli"][0]);
  a["stimuli"][2]["id"] = "gone";
  DiffReport report = diff(a, b);
  std::vector<std::string> kinds;
  for (const auto& d : report.differences) kinds.push_back(to_string(d.kind) + " " + d.stimulus);
  EXPECT_EQ(kinds, (std::vector<std::string>{"extra_layer a", "missing_layer b",
                                             "missing_stimulus gone", "extra_stimulus c"}));
  EXPECT_EQ(report.differences[1].message(), "stimulus 'b' layer 'pool': missing in the candidate");
}

TEST(Diff, MarksALayerNoCandidateRecordHasAsMissing) {
  json b = output();
  for (auto& record : b["stimuli"]) record["responses"].erase("pool");
  DiffReport report = diff(output(), b);
  ASSERT_EQ(report.layers.size(), 2u);
  EXPECT_EQ(report.layers[1].layer, "pool");
  EXPECT_TRUE(report.layers[1].missing);
  EXPECT_FALSE(report.layers[0].missing);
}

TEST(Diff, PairsRepeatedIdsInOrder) {
  json a = output(), b = output();
  a["stimuli"][1]["id"] = "a";
  b["stimuli"][1]["id"] = "a";
  EXPECT_TRUE(diff(a, b).same());
  b["stimuli"].erase(1);
  DiffReport report = diff(a, b);
  ASSERT_EQ(report.differences.size(), 1u);
  EXPECT_EQ(report.differences[0].kind, Difference::Kind::kMissingStimulus);
}

TEST(Diff, ReportsAStimulusThatFailedOnOneSideOnly) {
  json b = output();
  b["stimuli"][0] = {{"id", "a"}, {"error", "cannot decode"}};
  DiffReport report = diff(output(), b);
  ASSERT_EQ(report.differences.size(), 1u);
  EXPECT_EQ(report.differences[0].kind, Difference::Kind::kStimulusError);
  EXPECT_TRUE(diff(b, b).same());
}

TEST(Diff, ReportsNotCalledAndInputShapeChanges) {
  json b = output();
  b["stimuli"][0]["not_called"] = {"never"};
  b["stimuli"][1]["input_shape"] = {1, 3, 9, 9};
  DiffReport report = diff(output(), b);
  ASSERT_EQ(report.differences.size(), 2u);
  EXPECT_EQ(report.differences[0].kind, Difference::Kind::kNotCalled);
  EXPECT_EQ(report.differences[1].kind, Difference::Kind::kInputShape);
}

TEST(Diff, HeaderReadoutAndPreprocessingCountModelAndVersionsAreNotes) {
  json b = output();
  b["model"]["sha256"] = "bb";
  b["torchprobe"]["version"] = "0.2.0";
  b["preprocess"]["name"] = "model";
  b["preprocess"]["fit"] = "crop";  // a field the baseline does not record: not compared
  EXPECT_TRUE(diff(output(), b).same());
  EXPECT_EQ(diff(output(), b).notes.size(), 3u);
  b["readout"] = "mean";
  b["preprocess"]["size"] = {9, 9};
  DiffReport report = diff(output(), b);
  ASSERT_EQ(report.differences.size(), 2u);
  EXPECT_EQ(report.differences[0].kind, Difference::Kind::kHeader);
  EXPECT_EQ(report.differences[0].layer, "readout");
  EXPECT_EQ(report.differences[1].layer, "preprocess.size");
}

TEST(Diff, ComparesHeaderNumbersAsFloat32) {
  json a = output(), b = output();
  a["preprocess"]["mean"] = {0.485};           // as read back from a file
  b["preprocess"]["mean"] = {double(0.485f)};  // as Probe::header() holds it
  EXPECT_TRUE(diff(a, b).same());
}

TEST(Diff, RejectsBadTolerances) {
  EXPECT_THROW(diff(output(), output(), {-1, 0}), UsageError);
  EXPECT_THROW(diff(output(), output(), {0, NAN}), UsageError);
  EXPECT_THROW(diff(output(), output(), {0, 0, -1e-4}), UsageError);
  EXPECT_THROW(diff(output(), output(), {0, 0, INFINITY}), UsageError);
}

TEST(Diff, TableNamesTheDifferenceAndTheVerdict) {
  json b = output();
  b["stimuli"][1]["responses"]["conv1"]["values"][2] = 3.0;
  std::string table = format_diff_table(diff(output(), b));
  EXPECT_NE(table.find("stimulus 'b' layer 'conv1': 1 of 4 values out of tolerance"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("result: DIFFERENT"), std::string::npos) << table;
  EXPECT_NE(format_diff_table(diff(output(), output())).find("result: same"), std::string::npos);
}

TEST(Diff, JsonReportHasTheDocumentedFields) {
  json report = diff(output(), output()).to_json();
  for (const char* key : {"result", "baseline", "candidate", "tolerance", "summary", "notes",
                          "layers", "differences"}) {
    EXPECT_TRUE(report.contains(key)) << key;
  }
  EXPECT_EQ(report["tolerance"]["rtol"], kDefaultRtol);
  EXPECT_EQ(report["summary"]["values_compared"], 24);
  EXPECT_EQ(report["layers"][0]["layer"], "conv1");
}

}  // namespace
}  // namespace torchprobe
