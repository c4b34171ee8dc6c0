#include "cli/console.h"

#include <unistd.h>

#include <iostream>

namespace torchprobe::cli {

void print_error(const std::string& message, const std::string& hint) {
  std::cerr << "error: " << message << "\n";
  if (!hint.empty()) std::cerr << "hint: " << hint << "\n";
}

void print_warning(const std::string& message) { std::cerr << "warning: " << message << "\n"; }

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace torchprobe::cli
