#include "cli/console.h"

#include <iostream>
#include <unistd.h>

#include "cli/setting_flags.h"

namespace torchprobe::cli {

void print_error(const std::string& message, const std::string& hint) {
  std::cerr << "error: " << with_flags(message) << "\n";
  if (!hint.empty()) std::cerr << "hint: " << with_flags(hint) << "\n";
}

void print_error(const Error& error) {
  print_error(error.message_template(), error.hint_template());
}

void print_warning(const std::string& message) {
  std::cerr << "warning: " << with_flags(message) << "\n";
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace torchprobe::cli
