#pragma once
// Synthetic stimuli in pixel space, defined exactly so that any language can reproduce them
// (tests/reference/preprocess_reference.py does, in numpy).
//
//   at::Tensor g = torchprobe::render_grating({/*ori=*/45, /*sf=*/4}, 3, {64, 64});
//
// All are float32 [C, H, W]; values are computed in double and rounded once to float32; nothing
// is clipped to [0, 1]. i is the flat C-order index over (C, H, W), starting at 0, and
// mix(z) is the SplitMix64 finaliser on 64-bit unsigned z (all arithmetic mod 2^64):
//   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
//   mix(z) = z ^ (z >> 31).
// With g = 0x9E3779B97F4A7C15:
//
// uniform:V        value = float32(V) everywhere.
// noise:SEED       (dist=uniform, the default) value_i = (mix(SEED + (i+1)*g) >> 40) / 2^24,
//                  uniform on [0, 1) in steps of 2^-24; every channel independent.
// noise:SEED,dist=normal
//                  a = mix(SEED + (2i+1)*g), b = mix(SEED + (2i+2)*g),
//                  u1 = ((a >> 11) + 1) / 2^53 in (0, 1],  u2 = (b >> 11) / 2^53 in [0, 1),
//                  value_i = 0.5 + 0.25 * sqrt(-2 ln u1) * cos(2 pi u2)
//                  (Box-Muller: normal with mean 0.5 and standard deviation 0.25; about 4.6% of
//                  values fall outside [0, 1] and are kept).
// grating:ori=DEG,sf=CYCLES,phase=DEG,contrast=C,mean=M
//                  pixel (y, x) has centred coordinates X = x - (W-1)/2 (rightwards) and
//                  Y = (H-1)/2 - y (upwards); with t = ori*pi/180, p = phase*pi/180,
//                  value = M * (1 + C * cos(2 pi * CYCLES/W * (X cos t + Y sin t) + p)),
//                  the same in every channel. So ori is the direction in which luminance varies,
//                  counter-clockwise from rightwards: ori=0 gives vertical stripes, ori=90
//                  horizontal stripes, ori=45 stripes running from top-left to bottom-right.
//                  sf counts cycles across the image width; phase=0 puts a bright crest through
//                  the image centre; C is Michelson contrast (max-min)/(max+min) around mean M.
//                  Defaults: ori=0, sf=8, phase=0, contrast=1, mean=0.5 (values 0..1).
#include <ATen/ATen.h>

#include <cstdint>

#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {

at::Tensor render_uniform(double value, int64_t channels, const Size2& size);
at::Tensor render_noise(uint64_t seed, NoiseDist dist, int64_t channels, const Size2& size);
at::Tensor render_grating(const GratingParams& params, int64_t channels, const Size2& size);

}  // namespace torchprobe
