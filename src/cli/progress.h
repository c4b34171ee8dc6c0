#pragma once
// What `torchprobe run` tells a person while and after it works, on stderr.
//
//   ProgressLine line(stderr_is_terminal() && !quiet);
//   control.progress = [&](const RunProgress& p) { line.update(p); };
//   ...
//   line.clear();
//   std::cerr << format_summary(summary, layers, "out.jsonl", shard) << "\n";
//
// The progress line (done/total, images/s, ETA) is redrawn in place with '\r' at most 10 times a
// second, and only on a terminal: logs and pipes get the summary line alone.
#include <chrono>
#include <string>

#include "torchprobe/run/probe.h"

namespace torchprobe::cli {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { clear(); }
  void update(const RunProgress& progress);
  void clear();  // erases the line, before the summary, a warning or an error

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// "2000 stimuli, 2 layers, 12.4 s, 161.3 images/s, 0 bad skipped -> out.jsonl", with what was
// resumed and the shard when there are any.
std::string format_summary(const ProbeSummary& summary, std::size_t layers,
                           const std::string& output, const Shard& shard);

// "1:02:03" or "2:03"
std::string format_duration(double seconds);

}  // namespace torchprobe::cli
