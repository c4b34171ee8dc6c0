#include "cli/progress.h"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace torchprobe::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  long total = std::lround(seconds);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof(text), "%ld:%02ld", total / 60, total % 60);
  }
  return text;
}

void ProgressLine::update(const RunProgress& p) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  bool last = p.done >= p.total;
  if (shown_ && !last && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  double rate = p.seconds > 0 ? double(p.done) / p.seconds : 0;
  double eta = rate > 0 ? double(p.total - p.done) / rate : NAN;
  char text[160];
  std::snprintf(text, sizeof(text), "\r%lld/%lld stimuli (%.0f%%)  %.1f images/s  ETA %s",
                static_cast<long long>(p.done), static_cast<long long>(p.total),
                p.total > 0 ? 100.0 * double(p.done) / double(p.total) : 100.0, rate,
                format_duration(eta).c_str());
  std::string line = text;
  if (p.bad > 0) line += "  " + std::to_string(p.bad) + " bad";
  if (p.resumed > 0) line += "  (+" + std::to_string(p.resumed) + " resumed)";
  std::cerr << line << "\033[K" << std::flush;
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_) return;
  std::cerr << "\r\033[K" << std::flush;
  shown_ = false;
}

std::string format_summary(const ProbeSummary& s, std::size_t layers, const std::string& output,
                           const Shard& shard) {
  char numbers[128];
  double rate = s.seconds > 0 ? double(s.stimuli - s.bad) / s.seconds : 0;
  std::snprintf(numbers, sizeof(numbers), "%.1f s, %.1f images/s", s.seconds, rate);
  std::string text =
      "summary: " + std::to_string(s.stimuli) + (s.stimuli == 1 ? " stimulus" : " stimuli");
  if (s.resumed > 0) text += " (+" + std::to_string(s.resumed) + " resumed)";
  if (!shard.whole()) {
    text += " in shard " + shard.to_string() + " of " + std::to_string(s.listed);
  }
  text += ", " + std::to_string(layers) + (layers == 1 ? " layer, " : " layers, ") + numbers +
          ", " + std::to_string(s.bad) + " bad skipped -> " + output;
  return text;
}

}  // namespace torchprobe::cli
