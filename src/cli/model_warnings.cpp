#include "cli/model_warnings.h"

#include "cli/console.h"

namespace torchprobe::cli {

void ModelWarningPrinter::on_warning(const std::string& message) {
  if (printed_.insert(message).second) print_warning("the model warns: " + message);
}

}  // namespace torchprobe::cli
