#pragma once
// Printing for people: errors, warnings and hints on stderr. Settings that library messages name
// by field ("{batch_size}", errors.h) are shown as the CLI's flags (setting_flags.h).
#include <string>

#include "torchprobe/errors.h"

namespace torchprobe::cli {

void print_error(const std::string& message, const std::string& hint = "");
void print_error(const Error& error);
void print_warning(const std::string& message);
bool stderr_is_terminal();

}  // namespace torchprobe::cli
