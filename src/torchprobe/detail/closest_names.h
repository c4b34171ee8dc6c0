#pragma once
// Suggestions for a mistyped name (a layer, a subcommand, a stimulus kind): the candidates within
// a small edit distance, closest first.
//
//   closest_names("runn", {"layers", "run", "render"});   // {"run", "render"}
#include <cstddef>
#include <string>
#include <vector>

namespace torchprobe::detail {

// Levenshtein distance: insertions, deletions and substitutions of single bytes.
std::size_t edit_distance(const std::string& a, const std::string& b);

// Up to `count` candidates no further than max(3, name.size() / 2) edits from `name`, closest
// first (ties in the candidates' order).
std::vector<std::string> closest_names(const std::string& name,
                                       const std::vector<std::string>& candidates,
                                       std::size_t count = 3);

// "did you mean 'a', 'b'?" for closest_names()'s result; empty when there is none.
std::string did_you_mean(const std::vector<std::string>& close);

}  // namespace torchprobe::detail
