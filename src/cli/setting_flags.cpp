#include "cli/setting_flags.h"

#include <map>

#include "torchprobe/errors.h"

namespace torchprobe::cli {

std::string flag_for(const std::string& field) {
  static const std::map<std::string, std::string> kFlags = {{"layers", "--layer"},
                                                            {"batch_size", "--batch-size"},
                                                            {"mode", "--mode"},
                                                            {"input_size", "--input-size"},
                                                            {"size", "--size"},
                                                            {"preprocess", "--preprocess"},
                                                            {"mean", "--mean"},
                                                            {"std_dev", "--std"},
                                                            {"sweep", "--sweep"},
                                                            {"recursive", "--recursive"},
                                                            {"resume", "--resume"},
                                                            {"force", "--force"},
                                                            {"output", "-o"},
                                                            {"shard", "--shard"},
                                                            {"stimulus_root", "--stimulus-root"},
                                                            {"rtol", "--rtol"},
                                                            {"atol", "--atol"},
                                                            {"scale_tol", "--scale-tol"},
                                                            {"json", "--json"},
                                                            {"channels", "--channels"}};
  auto found = kFlags.find(field);
  return found == kFlags.end() ? field_name(field) : found->second;
}

std::string with_flags(const std::string& text) { return render_settings(text, flag_for); }

}  // namespace torchprobe::cli
