#include "torchprobe/detail/closest_names.h"

#include <algorithm>
#include <utility>

namespace torchprobe::detail {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> closest_names(const std::string& name,
                                       const std::vector<std::string>& candidates,
                                       std::size_t count) {
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    scored.emplace_back(edit_distance(name, candidate), candidate);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < scored.size() && i < count; ++i) {
    if (scored[i].first > std::max<std::size_t>(3, name.size() / 2)) break;
    out.push_back(scored[i].second);
  }
  return out;
}

std::string did_you_mean(const std::vector<std::string>& close) {
  if (close.empty()) return "";
  std::string text = "did you mean ";
  for (std::size_t i = 0; i < close.size(); ++i) text += (i ? ", '" : "'") + close[i] + "'";
  return text + "?";
}

}  // namespace torchprobe::detail
