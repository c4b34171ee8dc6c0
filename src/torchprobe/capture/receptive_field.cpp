#include "torchprobe/capture/receptive_field.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "torchprobe/errors.h"

namespace torchprobe {
namespace {

struct Box {
  int64_t y0, y1, x0, x1;  // [y0, y1) x [x0, x1)
};

at::Tensor seeded_noise(int64_t n, int64_t channels, const Size2& size, uint64_t seed) {
  std::vector<at::Tensor> items;
  for (int64_t i = 0; i < n; ++i) {
    auto spec = StimulusSpec::parse("noise:" + std::to_string(seed + uint64_t(i)));
    items.push_back(render_stimulus(spec, channels, size) * 4.0 - 2.0);  // roughly normalised range
  }
  return at::stack(items);
}

Box expanded(const Box& b, int64_t margin, const Size2& input) {
  return {std::max<int64_t>(0, b.y0 - margin), std::min(input.height, b.y1 + margin),
          std::max<int64_t>(0, b.x0 - margin), std::min(input.width, b.x1 + margin)};
}

// The NaN test: whether the units read out stay finite when the input outside a box is NaN.
class NanProbe {
 public:
  NanProbe(const CaptureProgram& program, const at::Tensor& input,
           const std::map<std::string, CropPlan::Target>& targets,
           const std::map<std::string, int64_t>& strides, int64_t stride)
      : program_(program), input_(input), targets_(targets), strides_(strides), stride_(stride) {}

  // Whether every target unit is finite in these captures of a run on the whole input.
  bool finite_in(const Captures& out) const { return finite_at(out, 0, 0).value_or(false); }

  // The test on the whole input: exact, and as costly as a forward on a full-size input.
  bool finite_outside(const Box& box) const {
    return finite_at(program_.run(with_nan_outside(box, whole())), 0, 0).value_or(false);
  }

  // The same test on a window of the input: the box with a frame of NaN one deepest stride
  // wide around it (clipped to the input), the window's origin on the stride grid so that each
  // unit sits at a known place of the smaller maps. Pixels beyond the window are the network's
  // own zero padding, which is finite; a receptive field is one connected region around its
  // units, so if it reaches past the box it reaches into the frame and meets NaN there. This
  // costs a forward on a box-sized input instead of a full-size one. Falls back to the whole
  // input when the window run fails or a unit falls outside its maps.
  bool finite_outside_in_window(const Box& box) const {
    const Size2 size{input_.size(2), input_.size(3)};
    Box window = expanded(box, stride_, size);
    window.y0 = window.y0 / stride_ * stride_;
    window.x0 = window.x0 / stride_ * stride_;
    Captures out;
    try {
      out = program_.run(with_nan_outside(box, window));
    } catch (const Error&) {
      return finite_outside(box);
    }
    if (auto finite = finite_at(out, window.y0, window.x0)) return *finite;
    return finite_outside(box);
  }

 private:
  Box whole() const { return {0, input_.size(2), 0, input_.size(3)}; }

  // The input's pixels in `box`, NaN elsewhere in `window`: [1, C, window height, width].
  at::Tensor with_nan_outside(const Box& box, const Box& window) const {
    using at::indexing::Slice;
    at::Tensor x =
        at::full({input_.size(0), input_.size(1), window.y1 - window.y0, window.x1 - window.x0},
                 std::numeric_limits<float>::quiet_NaN(), input_.options());
    x.index_put_({Slice(), Slice(), Slice(box.y0 - window.y0, box.y1 - window.y0),
                  Slice(box.x0 - window.x0, box.x1 - window.x0)},
                 input_.index({Slice(), Slice(), Slice(box.y0, box.y1), Slice(box.x0, box.x1)}));
    return x;
  }

  // Whether every target unit is finite in captures of a run on the window whose origin is
  // (y0, x0); nullopt when a unit falls outside its map there.
  std::optional<bool> finite_at(const Captures& out, int64_t y0, int64_t x0) const {
    using at::indexing::Slice;
    for (const auto& capture : out.captures) {
      const auto& t = targets_.at(capture.name);
      const int64_t s = strides_.at(capture.name);
      const int64_t y = t.y - y0 / s, x = t.x - x0 / s;
      const at::Tensor& v = capture.value;
      if (v.dim() != 4 || y < 0 || x < 0 || y >= v.size(2) || x >= v.size(3)) return std::nullopt;
      if (!at::isfinite(v.index({0, Slice(), y, x})).all().item<bool>()) return false;
    }
    return true;
  }

  const CaptureProgram& program_;
  at::Tensor input_;
  const std::map<std::string, CropPlan::Target>& targets_;
  const std::map<std::string, int64_t>& strides_;
  int64_t stride_;
};

// The largest `value` in [low, high] for which `fits(value)` holds, given fits(low) is true and
// fits is monotone (true up to some point, then false).
template <typename Fits>
int64_t search_max(int64_t low, int64_t high, Fits fits) {
  while (low < high) {
    int64_t mid = low + (high - low + 1) / 2;
    if (fits(mid))
      low = mid;
    else
      high = mid - 1;
  }
  return low;
}

int64_t power_of_two_stride(int64_t input, int64_t output) {
  if (output <= 0) return 1;
  double ratio = double(input) / double(output);
  return int64_t(1) << int64_t(std::lround(std::log2(std::max(1.0, ratio))));
}

// The input pixels under the units read out: unit (y, x) of a layer with cumulative stride s
// sits over input rows y*s .. y*s+s-1 (clipped to the input); the box holds all of them.
Box units_box(const std::map<std::string, CropPlan::Target>& targets,
              const std::map<std::string, int64_t>& strides, const Size2& input) {
  Box box{input.height, 0, input.width, 0};
  for (const auto& [name, t] : targets) {
    const int64_t s = strides.at(name);
    box.y0 = std::min(box.y0, std::min(t.y * s, input.height - 1));
    box.y1 = std::max(box.y1, std::min(t.y * s + s, input.height));
    box.x0 = std::min(box.x0, std::min(t.x * s, input.width - 1));
    box.x1 = std::max(box.x1, std::min(t.x * s + s, input.width));
  }
  box.y1 = std::max(box.y1, box.y0 + 1);
  box.x1 = std::max(box.x1, box.x0 + 1);
  return box;
}

// Whether cropping to `b` would not pay: more than 70% of the input.
bool too_big(const Box& b, const Size2& input) {
  return (b.y1 - b.y0) * (b.x1 - b.x0) * 10 > input.height * input.width * 7;
}

// The smallest box around the units whose complement they do not depend on, by the NaN test
// `finite_outside(box)`; nullopt, with `reason` set, when that box would cover most of the input
// (it would not be used: plan_crop, 3.). Few tests: a box around the units' own pixels grows
// (its margin doubling) until the units stay finite with NaN outside it, then each side moves
// in by binary search within what the growing tested. Every box kept has passed the test or
// contains one that has. Each side moves at most to the units' own pixels (a sound bound: the
// result may only be larger than the smallest box for a unit that does not depend on its own
// position). The top and left sides move in steps of the stride: the crop's origin is rounded
// down to a multiple of it anyway.
template <typename Test>
std::optional<Box> smallest_box(const Box& units, int64_t stride, const Size2& input,
                                Test finite_outside, std::string& reason) {
  if (too_big(units, input)) {
    reason = "the receptive field covers most of the input: the units read out cover most of it";
    return std::nullopt;
  }
  Box box = units;
  for (int64_t margin = 4;; margin *= 2) {
    Box grown = expanded(units, margin, input);
    if (too_big(grown, input)) {
      // The largest box around the units that could still be worth cropping.
      int64_t fits = search_max(
          0, margin, [&](int64_t m) { return !too_big(expanded(units, m, input), input); });
      grown = expanded(units, fits, input);
      if (!finite_outside(grown)) {
        reason =
            "the receptive field covers most of the input: the units depend on pixels outside "
            "the " +
            std::to_string(grown.y1 - grown.y0) + "x" + std::to_string(grown.x1 - grown.x0) +
            " box around them (of " + to_string(input) + ")";
        return std::nullopt;
      }
      box = grown;
      break;
    }
    if (finite_outside(grown)) {
      box = grown;
      break;
    }
  }
  box.y0 = stride * search_max(box.y0 / stride, units.y0 / stride, [&](int64_t k) {
             return finite_outside(Box{k * stride, box.y1, box.x0, box.x1});
           });
  box.x0 = stride * search_max(box.x0 / stride, units.x0 / stride, [&](int64_t k) {
             return finite_outside(Box{box.y0, box.y1, k * stride, box.x1});
           });
  box.y1 =
      input.height - search_max(input.height - box.y1, input.height - units.y1, [&](int64_t v) {
        return finite_outside(Box{box.y0, input.height - v, box.x0, box.x1});
      });
  box.x1 = input.width - search_max(input.width - box.x1, input.width - units.x1, [&](int64_t v) {
             return finite_outside(Box{box.y0, box.y1, box.x0, input.width - v});
           });
  return box;
}

CropPlan inactive(CropPlan plan, std::string reason) {
  plan.active = false;
  plan.reason = std::move(reason);
  return plan;
}

// The units read out of each capture of the full-size run `full`, into plan.targets, with each
// layer's cumulative stride (`strides`) and the deepest one (`stride`). Returns why cropping is
// not used when a capture is not a spatial map.
std::optional<std::string> read_targets(const Captures& full, const Readout& readout,
                                        const Size2& input, CropPlan& plan,
                                        std::map<std::string, int64_t>& strides, int64_t& stride) {
  for (const auto& capture : full.captures) {
    if (capture.value.dim() != 4) {
      return "layer '" + capture.name + "' is not a spatial map";
    }
    CropPlan::Target t;
    t.full_shape = capture.value.sizes().slice(1).vec();
    Response r = readout.apply(capture.value, 0, capture.name);  // validates at:Y,X
    t.y = r.index[0];
    t.x = r.index[1];
    plan.targets[capture.name] = t;
    int64_t s = std::max(power_of_two_stride(input.height, capture.value.size(2)),
                         power_of_two_stride(input.width, capture.value.size(3)));
    strides[capture.name] = s;
    stride = std::max(stride, s);
  }
  return std::nullopt;
}

// The smallest box whose complement the units do not depend on (see smallest_box). Its NaN
// tests run on windows of the input around each box, so most of them cost a small forward; the
// box found then passes the test on the whole input, or the search is repeated there. nullopt,
// with `reason` set, when the units are not finite or the box would cover most of the input.
std::optional<Box> find_crop_box(const CaptureProgram& program, const at::Tensor& probe_input,
                                 const Captures& full,
                                 const std::map<std::string, CropPlan::Target>& targets,
                                 const std::map<std::string, int64_t>& strides, int64_t stride,
                                 const Size2& input, std::string& reason) {
  NanProbe nan(program, probe_input, targets, strides, stride);
  if (!nan.finite_in(full)) {
    reason = "the units are not finite on a test input";
    return std::nullopt;
  }
  const Box units = units_box(targets, strides, input);
  auto in_window = [&](const Box& b) { return nan.finite_outside_in_window(b); };
  auto on_whole_input = [&](const Box& b) { return nan.finite_outside(b); };
  std::optional<Box> found = smallest_box(units, stride, input, in_window, reason);
  if (found && !nan.finite_outside(*found)) {
    found = smallest_box(units, stride, input, on_whole_input, reason);
  }
  return found;
}

// Sets the plan's crop to `box` with its origin aligned to the stride grid of the deepest layer,
// and each target's place in the cropped maps. Returns why cropping is not used when the aligned
// box covers most of the input.
std::optional<std::string> align_crop(const Box& box, int64_t stride,
                                      const std::map<std::string, int64_t>& strides,
                                      const Size2& input, CropPlan& plan) {
  plan.y0 = box.y0 / stride * stride;
  plan.x0 = box.x0 / stride * stride;
  plan.height = box.y1 - plan.y0;
  plan.width = box.x1 - plan.x0;
  if (too_big({plan.y0, plan.y0 + plan.height, plan.x0, plan.x0 + plan.width}, input)) {
    return "the receptive field covers most of the input (" + std::to_string(box.y1 - box.y0) +
           "x" + std::to_string(box.x1 - box.x0) + " of " + to_string(input) + ")";
  }
  for (auto& [name, t] : plan.targets) {
    t.crop_y = t.y - plan.y0 / strides.at(name);
    t.crop_x = t.x - plan.x0 / strides.at(name);
  }
  return std::nullopt;
}

// Whether cropped and full computations agree, on three inputs: probe_input (its full run `full`
// is at hand) and two more; records the largest relative difference in the plan. Returns why
// cropping is not used when they do not.
std::optional<std::string> verify_crop(const CaptureProgram& program, const at::Tensor& probe_input,
                                       const Captures& full, int64_t channels, const Size2& input,
                                       CropPlan& plan) {
  at::Tensor more_input = seeded_noise(2, channels, input, 2000);
  at::Tensor check_input = at::cat({probe_input, more_input});
  Captures reference = program.run(more_input);
  for (std::size_t i = 0; i < reference.captures.size() && i < full.captures.size(); ++i) {
    reference.captures[i].value = at::cat({full.captures[i].value, reference.captures[i].value});
  }
  Captures cropped;
  try {
    cropped = program.run(plan.crop(check_input));
  } catch (const Error&) {
    // NOTE: not the error's text: its hints are about the user's input, and this is the planner's.
    return "the forward fails on the cropped " + std::to_string(plan.height) + "x" +
           std::to_string(plan.width) + " input (the model needs more of the input than the " +
           "captured layers do)";
  }
  for (std::size_t i = 0; i < reference.captures.size(); ++i) {
    const auto& name = reference.captures[i].name;
    if (i >= cropped.captures.size() || cropped.captures[i].name != name) {
      return "the cropped program captures other calls than the full one";
    }
    const auto& t = plan.targets[name];
    const at::Tensor& small = cropped.captures[i].value;
    if (small.dim() != 4 || t.crop_y < 0 || t.crop_x < 0 || t.crop_y >= small.size(2) ||
        t.crop_x >= small.size(3)) {
      return "layer '" + name + "': the unit falls outside the cropped map";
    }
    const at::Tensor& big = reference.captures[i].value;
    using at::indexing::Slice;
    double scale = std::max(1e-30, big.abs().max().item<double>());
    double diff = (big.index({Slice(), Slice(), t.y, t.x}) -
                   small.index({Slice(), Slice(), t.crop_y, t.crop_x}))
                      .abs()
                      .max()
                      .item<double>();
    plan.max_verified_difference = std::max(plan.max_verified_difference, diff / scale);
    if (!(diff <= 1e-5 * scale)) {  // NaN differs too
      return "layer '" + name + "': cropped and full responses differ (" + std::to_string(diff) +
             ")";
    }
  }
  return std::nullopt;
}

}  // namespace

at::Tensor CropPlan::crop(const at::Tensor& batch) const {
  return batch.narrow(2, y0, height).narrow(3, x0, width).contiguous();
}

Response CropPlan::read(const Capture& capture, int64_t n) const {
  const Target& t = targets.at(capture.name);
  Response response;
  response.shape = t.full_shape;
  response.index = {t.y, t.x};
  response.values = capture.value.select(0, n)
                        .select(2, t.crop_x)
                        .select(1, t.crop_y)
                        .to(at::kFloat)
                        .contiguous();
  return response;
}

nlohmann::json CropPlan::to_json() const {
  nlohmann::json out = {{"used", active}, {"input_size", {input.height, input.width}}};
  if (active) {
    out["box"] = {y0, x0, height, width};
    out["max_verified_difference"] = max_verified_difference;
  } else {
    out["reason"] = reason;
  }
  return out;
}

CropPlan plan_crop(const CaptureProgram& program, const Readout& readout, int64_t channels,
                   const Size2& input) {
  CropPlan plan;
  plan.input = input;
  if (!readout.is_point()) return inactive(plan, "the readout is not a point readout");
  // NOTE: a crop changes what `if x.sum() > t:` sees, so it could take another branch than the
  // full input; the exactness check below runs on test inputs and would not notice.
  if (auto where = program.value_dependent_branch()) {
    return inactive(plan, "the forward branches on the input's values (" + *where + ")");
  }

  // 1. The units to read, from one full-size run.
  at::Tensor probe_input = seeded_noise(1, channels, input, 1000);
  Captures full = program.run(probe_input);
  if (full.captures.empty()) return inactive(plan, "nothing is captured");
  int64_t stride = 1;
  std::map<std::string, int64_t> strides;
  if (auto reason = read_targets(full, readout, input, plan, strides, stride)) {
    return inactive(plan, *reason);
  }

  // 2. The smallest box whose complement the units do not depend on (find_crop_box).
  std::string not_found_reason;
  std::optional<Box> found = find_crop_box(program, probe_input, full, plan.targets, strides,
                                           stride, input, not_found_reason);
  if (!found) return inactive(plan, not_found_reason);

  // 3. Align the origin to the stride grid of the deepest layer.
  if (auto reason = align_crop(*found, stride, strides, input, plan)) {
    return inactive(plan, *reason);
  }

  // 4. Use it only if cropped and full computations agree, on three inputs: the one of 1. (its
  // full run is at hand) and two more.
  if (auto reason = verify_crop(program, probe_input, full, channels, input, plan)) {
    return inactive(plan, *reason);
  }
  plan.active = true;
  return plan;
}

}  // namespace torchprobe
