#include "torchprobe/detail/json_text.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <random>

namespace torchprobe {
namespace {

// The length of the shortest %g text (any precision) that reads back as `f`.
std::size_t shortest_printf_length(float f) {
  std::size_t best = 99;
  for (int precision = 1; precision <= 9; ++precision) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*g", precision, double(f));
    if (std::strtof(text, nullptr) == f) best = std::min(best, std::strlen(text));
  }
  return best;
}

TEST(JsonText, FloatsAreTheShortestTextThatReadsBackAsTheSameFloat) {
  EXPECT_EQ(dump_json(json_float(0.1f)), "0.1");
  EXPECT_EQ(dump_json(json_float(1.0f)), "1");
  EXPECT_EQ(dump_json(json_float(-2.5e-8f)), "-2.5e-08");
  std::mt19937 rng(1);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 100000; ++i) {
    uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, sizeof f);
    if (!std::isfinite(f)) continue;
    std::string text = dump_json(json_float(f));
    ASSERT_EQ(std::strtof(text.c_str(), nullptr), f) << text;
    EXPECT_LE(text.size(), shortest_printf_length(f)) << text;
  }
}

TEST(JsonText, NonFiniteBecomesNull) {
  EXPECT_EQ(dump_json(json_float(std::numeric_limits<float>::quiet_NaN())), "null");
}

TEST(JsonText, CompactAndPrettyParseBackEqual) {
  nlohmann::json j = {{"id", "a\"b"},
                      {"values", {json_float(0.5f), json_float(-0.375f)}},
                      {"nested", {{1, 2}, {3, 4}}},
                      {"n", 7},
                      {"empty", nlohmann::json::array()}};
  EXPECT_EQ(nlohmann::json::parse(dump_json(j)), j);
  EXPECT_EQ(nlohmann::json::parse(dump_json(j, true)), j);
  EXPECT_EQ(dump_json(j).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace torchprobe
