#include "torchprobe/capture/readout.h"

#include "torchprobe/errors.h"
#include "torchprobe/numbers.h"

namespace torchprobe {
namespace {

std::string shape_text(at::IntArrayRef sizes) {
  std::string out = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) out += (i ? "," : "") + std::to_string(sizes[i]);
  return out + "]";
}

}  // namespace

Readout Readout::parse(const std::string& text) {
  Readout readout;
  if (text == "center" || text == "centre") {
    readout.kind_ = Kind::kCenter;
  } else if (text == "mean") {
    readout.kind_ = Kind::kMean;
  } else if (text == "max") {
    readout.kind_ = Kind::kMax;
  } else if (text == "full") {
    readout.kind_ = Kind::kFull;
  } else if (text.rfind("at:", 0) == 0) {
    std::string rest = text.substr(3);
    auto comma = rest.find(',');
    if (comma == std::string::npos || !parse_digits(rest.substr(0, comma), 9, readout.y_) ||
        !parse_digits(rest.substr(comma + 1), 9, readout.x_)) {
      throw UsageError("bad readout '" + text + "': expected at:Y,X with non-negative integers");
    }
    readout.kind_ = Kind::kAt;
  } else {
    throw UsageError("unknown readout '" + text + "': expected center, at:Y,X, mean, max or full");
  }
  return readout;
}

std::string Readout::to_string() const {
  switch (kind_) {
    case Kind::kCenter:
      return "center";
    case Kind::kAt:
      return "at:" + std::to_string(y_) + "," + std::to_string(x_);
    case Kind::kMean:
      return "mean";
    case Kind::kMax:
      return "max";
    case Kind::kFull:
      return "full";
  }
  return "?";
}

Response Readout::apply(const at::Tensor& capture, int64_t n, const std::string& layer) const {
  at::Tensor item = capture.select(0, n);
  Response response;
  response.shape = item.sizes().vec();
  const int64_t rank = capture.dim();
  auto spatial_error = [&](const std::string& why) {
    return ReadoutError("readout '" + to_string() + "' does not fit layer '" + layer +
                        "' of shape " + shape_text(capture.sizes()) + ": " + why);
  };
  if (rank == 2) {
    if (kind_ == Kind::kAt) throw spatial_error("at:Y,X needs an (N,C,H,W) map");
    response.values = item;
  } else if (rank == 3 || rank == 4) {
    std::vector<int64_t> spatial_dims =
        rank == 4 ? std::vector<int64_t>{1, 2} : std::vector<int64_t>{1};
    switch (kind_) {
      case Kind::kCenter:
        if (rank == 4) {
          response.index = {item.size(1) / 2, item.size(2) / 2};
          response.values = item.select(2, response.index[1]).select(1, response.index[0]);
        } else {
          response.index = {item.size(1) / 2};
          response.values = item.select(1, response.index[0]);
        }
        break;
      case Kind::kAt:
        if (rank != 4) throw spatial_error("at:Y,X needs an (N,C,H,W) map");
        if (y_ >= item.size(1) || x_ >= item.size(2)) {
          throw spatial_error("position (" + std::to_string(y_) + "," + std::to_string(x_) +
                              ") is outside the " + std::to_string(item.size(1)) + "x" +
                              std::to_string(item.size(2)) + " map");
        }
        response.index = {y_, x_};
        response.values = item.select(2, x_).select(1, y_);
        break;
      case Kind::kMean:
        response.values = item.to(at::kFloat).mean(spatial_dims);
        break;
      case Kind::kMax:
        response.values = item.amax(spatial_dims);
        break;
      case Kind::kFull:
        response.values = item;
        break;
    }
  } else {
    throw spatial_error("expected a tensor of rank 2 (N,C), 3 (N,C,L) or 4 (N,C,H,W)");
  }
  response.values = response.values.to(at::kFloat).contiguous();
  return response;
}

}  // namespace torchprobe
