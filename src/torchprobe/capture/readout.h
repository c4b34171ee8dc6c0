#pragma once
// What is read out of a captured tensor for each stimulus.
//
//   auto readout = torchprobe::Readout::parse("center");
//   torchprobe::Response r = readout.apply(capture, /*n=*/0, "conv1");  // r.values: C floats
//                                                                         // at [0,:,H//2,W//2]
//
// Shapes (batch dimension first):  (N,C,H,W): center = [n,:,H//2,W//2], at:Y,X = [n,:,Y,X],
// mean/max over H and W, full = the C x H x W map;  (N,C): the whole vector for every readout;
// (N,C,L): center = [n,:,L//2], mean/max over L, full = C x L.  Other ranks throw ReadoutError.
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace torchprobe {

struct Response {
  std::vector<int64_t> shape;  // the captured tensor's shape without the batch dimension
  std::vector<int64_t> index;  // spatial index read (empty for vectors and reductions)
  at::Tensor values;           // float32, contiguous: [C] or, for full, the whole map
};

class Readout {
 public:
  enum class Kind { kCenter, kAt, kMean, kMax, kFull };

  static Readout parse(const std::string& text);  // throws UsageError
  std::string to_string() const;
  Kind kind() const { return kind_; }
  // A point readout reads one position per channel (center, at:Y,X).
  bool is_point() const { return kind_ == Kind::kCenter || kind_ == Kind::kAt; }

  // Reads stimulus `n` of a captured batch. Throws ReadoutError naming the layer and shape.
  Response apply(const at::Tensor& capture, int64_t n, const std::string& layer) const;

 private:
  Kind kind_ = Kind::kCenter;
  int64_t y_ = 0;
  int64_t x_ = 0;
};

}  // namespace torchprobe
