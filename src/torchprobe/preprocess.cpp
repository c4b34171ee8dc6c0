#include "torchprobe/preprocess.h"

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

const std::vector<float> kImagenetMean = {0.485f, 0.456f, 0.406f};
const std::vector<float> kImagenetStd = {0.229f, 0.224f, 0.225f};

std::vector<float> float_list(const nlohmann::json& value) {
  std::vector<float> out;
  if (!value.is_array()) return out;
  for (const auto& v : value) {
    if (!v.is_number()) return {};
    out.push_back(v.get<float>());
  }
  return out;
}

}  // namespace

at::Tensor Preprocessing::normalize(const at::Tensor& pixels) const {
  if (mean.empty()) return pixels;
  const int64_t c = pixels.size(0);
  auto per_channel = [&](const std::vector<float>& values) {
    std::vector<float> v(c);
    for (int64_t i = 0; i < c; ++i) v[i] = values[std::size_t(i) % values.size()];
    return at::tensor(v, at::kFloat).view({c, 1, 1});
  };
  return (pixels - per_channel(mean)) / per_channel(std);
}

nlohmann::json Preprocessing::to_json() const {
  nlohmann::json out = {{"name", name}, {"size", {size.height, size.width}},
                        {"channels", channels}, {"fit", fit}, {"interpolation", "bilinear"},
                        {"scale", "8-bit/255, 16-bit/65535"}};
  out["mean"] = mean;
  out["std"] = std;
  return out;
}

Preprocessing resolve_preprocessing(const Model& model, const PreprocessOptions& options,
                                    std::vector<std::string>& warnings) {
  Preprocessing pre;
  auto input_size = model.input_size();
  if (input_size) {
    pre.channels = (*input_size)[0];
    pre.size = {(*input_size)[1], (*input_size)[2]};
  }
  if (options.size) pre.size = *options.size;

  std::string name = options.preprocess;
  const nlohmann::json& meta = model.metadata();
  bool has_meta_norm = meta.is_object() && !float_list(meta.value("mean", nlohmann::json())).empty() &&
                       !float_list(meta.value("std", nlohmann::json())).empty();
  if (name.empty()) {
    if (has_meta_norm) {
      name = "model";
    } else {
      name = "none";
      warnings.push_back("model '" + model.path() +
                         "' has no torchprobe metadata: no normalisation is applied "
                         "(give --preprocess imagenet or --preprocess none to silence this)");
    }
  }
  pre.name = name;
  if (name == "none") {
    return pre;
  } else if (name == "imagenet") {
    pre.mean = kImagenetMean;
    pre.std = kImagenetStd;
  } else if (name == "model") {
    if (!has_meta_norm) {
      throw UsageError("--preprocess model: model '" + model.path() +
                       "' has no mean/std in its metadata",
                       "use --preprocess imagenet or none, or export with scripts/export_model.py");
    }
    pre.mean = float_list(meta["mean"]);
    pre.std = float_list(meta["std"]);
  } else {
    throw UsageError("unknown preprocessing '" + name + "': expected none, imagenet or model");
  }
  for (float s : pre.std) {
    if (!(s > 0)) throw UsageError("bad preprocessing: std values must be positive");
  }
  return pre;
}

}  // namespace torchprobe
