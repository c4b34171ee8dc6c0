// Tolerance flags: --rtol, --atol and --scale-tol for diff and check. The library refuses a
// negative or non-finite value (require_tolerance in numbers.h).
#include "cli/commands/command.h"
#include "torchprobe/results/diff.h"

namespace torchprobe::cli {

void add_tolerance_options(CLI::App& cmd, Tolerance& tolerance) {
  cmd.add_option("--rtol", tolerance.rtol,
                 "Relative tolerance: |candidate - baseline| <= atol + rtol * |baseline|")
      ->capture_default_str();
  cmd.add_option("--atol", tolerance.atol, "Absolute tolerance")->capture_default_str();
  cmd.add_option("--scale-tol", tolerance.scale_tol,
                 "Tolerance as a fraction of the response's largest |baseline| value, added to the "
                 "others: for goldens checked on other CPUs, whose rounding grows with the layer's "
                 "magnitude (e.g. 1e-4)")
      ->capture_default_str();
}

}  // namespace torchprobe::cli
