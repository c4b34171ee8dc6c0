#pragma once
// Receptive-field cropping for point readouts: run the capture program on the smallest aligned
// part of the input that can influence the units read out.
//
//   torchprobe::CropPlan plan = torchprobe::plan_crop(program, readout, 3, {224, 224});
//   if (plan.active) {
//     at::Tensor small = plan.crop(batch);              // [N, C, plan.height, plan.width]
//     Captures out = program.run(small);
//     Response r = plan.read(out.captures[0], n);        // reports the full-size shape and index
//   }
//
// How the region is found: the input is filled with NaN outside a candidate box and the program
// run; the box shrinks side by side (binary search) while every requested unit stays finite. NaN
// propagates through convolutions (even with zero weights), BatchNorm, ReLU, max and average
// pooling, so a finite unit cannot depend on a NaN pixel. The search's runs are on a window of
// the input around each box (a NaN frame one stride wide), which is cheap; the box it finds must
// pass the test on the whole input too, else the search is repeated on the whole input. The crop is
// that box with its origin moved down to a multiple of the deepest layer's cumulative stride, so
// every layer's output grid stays aligned with the uncropped one. Whatever the analysis says, the
// plan is only used after cropped and full computations agree on random inputs (within 1e-5 of the
// layer's largest magnitude: convolution algorithms picked for another input size change the last
// bits); otherwise it is inactive and `reason` says why.
#include <ATen/ATen.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "torchprobe/capture/capture.h"
#include "torchprobe/capture/readout.h"
#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {

struct CropPlan {
  bool active = false;
  std::string reason;                             // why it is inactive
  bool forward_fails = false;                     // inactive: the forward fails at this size
  Size2 input{0, 0};                              // the input size the plan is for
  int64_t y0 = 0, x0 = 0, height = 0, width = 0;  // the crop box
  double max_verified_difference = 0;

  struct Target {
    std::vector<int64_t> full_shape;  // the uncropped capture's shape without batch
    int64_t y = 0, x = 0;             // the unit in the uncropped map
    int64_t crop_y = 0, crop_x = 0;   // the same unit in the cropped map
  };
  std::map<std::string, Target> targets;  // by capture name

  PixelRegion region() const { return {y0, x0, height, width}; }
  at::Tensor crop(const at::Tensor& batch) const;
  // Reads stimulus n of a capture of the cropped program as the uncropped readout would.
  Response read(const Capture& capture, int64_t n) const;
  nlohmann::json to_json() const;
};

// Never throws for models the plan does not fit: returns an inactive plan with a reason. Throws
// ForwardError when the forward fails on an input of this size (and ReadoutError for an at:Y,X
// outside a captured map).
CropPlan plan_crop(const CaptureProgram& program, const Readout& readout, int64_t channels,
                   const Size2& input);

}  // namespace torchprobe
