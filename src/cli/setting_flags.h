#pragma once
// The CLI's names for the settings library messages name by field (errors.h): "{batch_size}" is
// shown as "--batch-size". Every message the CLI prints goes through with_flags().
#include <string>

namespace torchprobe::cli {

// The flag that sets `field` (one of torchprobe::setting_fields()), e.g. "--batch-size", "-o".
std::string flag_for(const std::string& field);
// render_settings() with flag_for().
std::string with_flags(const std::string& text);

}  // namespace torchprobe::cli
