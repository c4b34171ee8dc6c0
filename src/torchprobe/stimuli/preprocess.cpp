#include "torchprobe/stimuli/preprocess.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

const std::vector<double> kImagenetMean = {0.485, 0.456, 0.406};
const std::vector<double> kImagenetStd = {0.229, 0.224, 0.225};

std::vector<double> json_float_list(const nlohmann::json& value) {
  std::vector<double> out;
  if (!value.is_array()) return out;
  for (const auto& v : value) {
    if (!v.is_number()) return {};
    out.push_back(v.get<double>());
  }
  return out;
}

// `values` repeated cyclically to `channels` entries.
std::vector<double> per_channel(const std::vector<double>& values, int64_t channels) {
  std::vector<double> out(std::size_t(channels), 0.0);
  for (int64_t i = 0; i < channels; ++i)
    out[std::size_t(i)] = values[std::size_t(i) % values.size()];
  return out;
}

struct ModelFacts {
  const nlohmann::json* metadata = nullptr;  // null: no model
  std::optional<std::vector<int64_t>> input_size;
  std::string path;
};

void resolve_geometry(const ModelFacts& model, const PreprocessOptions& options,
                      Preprocessing& pre) {
  if (model.input_size) {
    pre.channels = (*model.input_size)[0];
    pre.size = {(*model.input_size)[1], (*model.input_size)[2]};
  }
  if (options.size) pre.size = *options.size;
  if (options.channels) {
    if (*options.channels != 1 && *options.channels != 3) {
      throw UsageError("bad {channels} " + std::to_string(*options.channels) + ": expected 1 or 3");
    }
    pre.channels = *options.channels;
  }
  const nlohmann::json resize = model.metadata && model.metadata->is_object()
                                    ? model.metadata->value("resize", nlohmann::json())
                                    : nlohmann::json();
  if (options.fit) {
    pre.fit = *options.fit;
  } else if (resize.is_object() && resize.value("fit", "") == "crop") {
    pre.fit = Fit::kCrop;
  }
  if (resize.is_object() && resize.contains("crop_pct") && resize["crop_pct"].is_number()) {
    double pct = resize["crop_pct"].get<double>();
    if (pct > 0 && pct <= 1) pre.crop_pct = pct;
  }
  if (options.crop_pct && *options.crop_pct > 0 && *options.crop_pct <= 1) {
    pre.crop_pct = *options.crop_pct;
  }
}

// Normalisation from {mean}/{std_dev}: each repeated to the model's channels (missing mean: 0,
// missing std: 1); throws UsageError when combined with {preprocess} or of the wrong length.
void resolve_custom_normalization(const PreprocessOptions& options, Preprocessing& pre) {
  if (options.preprocess) {
    throw UsageError(
        "{mean}/{std_dev} cannot be combined with {preprocess} " + to_string(*options.preprocess),
        "give either {preprocess} or {mean}/{std_dev}");
  }
  auto check = [&](const char* option, const std::vector<double>& v) {
    if (!v.empty() && v.size() != 1 && int64_t(v.size()) != pre.channels) {
      throw UsageError(std::string("bad ") + option + ": " + std::to_string(v.size()) +
                       " values for a model with " + std::to_string(pre.channels) +
                       " input channels (give 1 or " + std::to_string(pre.channels) + ")");
    }
  };
  check("{mean}", options.mean);
  check("{std_dev}", options.std_dev);
  pre.name = "custom";
  pre.mean =
      per_channel(options.mean.empty() ? std::vector<double>{0.0} : options.mean, pre.channels);
  pre.std_dev = per_channel(options.std_dev.empty() ? std::vector<double>{1.0} : options.std_dev,
                            pre.channels);
}

// Normalisation by name ({preprocess} none, imagenet or model); without one, the model's
// metadata's mean/std when it has them, else none (with a warning for a model without them).
void resolve_named_normalization(const ModelFacts& model, const PreprocessOptions& options,
                                 Preprocessing& pre, std::vector<std::string>& warnings) {
  const nlohmann::json meta = model.metadata ? *model.metadata : nlohmann::json();
  const bool has_meta_norm = meta.is_object() &&
                             !json_float_list(meta.value("mean", nlohmann::json())).empty() &&
                             !json_float_list(meta.value("std", nlohmann::json())).empty();
  Normalization normalization;
  if (options.preprocess) {
    normalization = *options.preprocess;
  } else {
    if (has_meta_norm) {
      normalization = Normalization::kModel;
    } else {
      normalization = Normalization::kNone;
      if (model.metadata) {
        warnings.push_back("model '" + model.path +
                           "' has no torchprobe metadata: no normalisation is applied "
                           "(give {preprocess} imagenet or {preprocess} none to silence this)");
      }
    }
  }
  pre.name = to_string(normalization);
  if (normalization == Normalization::kNone) {
    return;
  } else if (normalization == Normalization::kImagenet) {
    pre.mean = per_channel(kImagenetMean, pre.channels);
    pre.std_dev = per_channel(kImagenetStd, pre.channels);
  } else {
    if (!has_meta_norm) {
      throw UsageError(
          "{preprocess} model: " +
              (model.metadata ? "model '" + model.path + "' has" : std::string("no model, so")) +
              " no mean/std in its metadata",
          "use {preprocess} imagenet or none, or export with scripts/export_model.py");
    }
    pre.mean = per_channel(json_float_list(meta["mean"]), pre.channels);
    pre.std_dev = per_channel(json_float_list(meta["std"]), pre.channels);
  }
}

// Throws UsageError unless every std value is positive and finite and every mean value finite.
void check_normalization_values(const Preprocessing& pre) {
  for (double s : pre.std_dev) {
    if (!(s > 0) || !std::isfinite(s)) {
      throw UsageError("bad preprocessing: std values must be positive");
    }
  }
  for (double m : pre.mean) {
    if (!std::isfinite(m)) throw UsageError("bad preprocessing: mean values must be finite");
  }
}

void resolve_normalization(const ModelFacts& model, const PreprocessOptions& options,
                           Preprocessing& pre, std::vector<std::string>& warnings) {
  const bool custom = !options.mean.empty() || !options.std_dev.empty();
  if (custom) {
    resolve_custom_normalization(options, pre);
  } else {
    resolve_named_normalization(model, options, pre, warnings);
    if (pre.name == "none") return;
  }
  check_normalization_values(pre);
}

Preprocessing resolve(const ModelFacts& model, const PreprocessOptions& options,
                      std::vector<std::string>& warnings) {
  Preprocessing pre;
  resolve_geometry(model, options, pre);
  resolve_normalization(model, options, pre, warnings);
  return pre;
}

}  // namespace

Normalization parse_normalization(const std::string& text) {
  if (text == "none") return Normalization::kNone;
  if (text == "imagenet") return Normalization::kImagenet;
  if (text == "model") return Normalization::kModel;
  throw UsageError("unknown preprocessing '" + text + "': expected none, imagenet or model");
}

std::string to_string(Normalization normalization) {
  switch (normalization) {
    case Normalization::kNone:
      return "none";
    case Normalization::kImagenet:
      return "imagenet";
    case Normalization::kModel:
      return "model";
  }
  return "none";
}

at::Tensor Preprocessing::pixels(const StimulusSpec& spec) const {
  return render_stimulus(spec, channels, resize());
}

RenderedStimulus Preprocessing::prepare_region(const StimulusSpec& spec,
                                               const PixelRegion& region) const {
  RenderedStimulus out = render_stimulus_region(spec, channels, resize(), region);
  out.pixels = normalize(out.pixels);
  return out;
}

at::Tensor Preprocessing::normalize(const at::Tensor& pixels) const {
  if (mean.empty()) return pixels;
  const int64_t c = pixels.size(0);
  auto column = [&](const std::vector<double>& values) {
    return at::tensor(per_channel(values, c), at::kDouble).to(at::kFloat).view({c, 1, 1});
  };
  return (pixels - column(mean)) / column(std_dev);
}

nlohmann::json Preprocessing::to_json() const {
  nlohmann::json out = {{"name", name},
                        {"size", {size.height, size.width}},
                        {"channels", channels},
                        {"fit", to_string(fit)}};
  if (fit == Fit::kCrop) out["crop_pct"] = crop_pct;
  out["interpolation"] = "bilinear";
  out["scale"] = "8-bit/255, 16-bit/65535";
  out["mean"] = mean;
  out["std"] = std_dev;
  return out;
}

std::vector<double> parse_float_list(const std::string& option, const std::string& text) {
  std::vector<double> out;
  std::size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    errno = 0;
    double v = item.empty() || item.find_first_not_of("0123456789+-.eE") != std::string::npos
                   ? NAN
                   : std::strtod(item.c_str(), &end);
    if (std::isnan(v) || errno != 0 || end != item.c_str() + item.size() || !std::isfinite(v)) {
      throw UsageError("bad " + option + " '" + text +
                       "': expected comma-separated numbers, e.g. 0.485,0.456,0.406");
    }
    out.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Preprocessing resolve_preprocessing(const Model& model, const PreprocessOptions& options,
                                    std::vector<std::string>& warnings) {
  ModelFacts facts{&model.metadata(), model.input_size(), model.path()};
  return resolve(facts, options, warnings);
}

Preprocessing resolve_preprocessing(const PreprocessOptions& options) {
  std::vector<std::string> warnings;
  return resolve(ModelFacts{}, options, warnings);
}

}  // namespace torchprobe
