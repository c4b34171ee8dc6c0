#pragma once
// Writing stimuli and model inputs to files, for people (PNG) and for numpy (.npy).
//
//   torchprobe::StimulusFileNamer names;
//   std::string stem = names.stem_for("grating:ori=45,sf=4,phase=0,contrast=1,mean=0.5");
//   // "grating_ori=45,sf=4,phase=0,contrast=1,mean=0.5"
//   torchprobe::write_png("out/" + stem + ".png", pixels);   // [C,H,W] in [0,1]
//   torchprobe::write_npy("out/" + stem + ".npy", pixels);   // exact float32
#include <ATen/ATen.h>

#include <set>
#include <string>

namespace torchprobe {

// File names from stimulus ids: every byte outside [A-Za-z0-9._,=+@-] becomes '_' (so '/' and
// ':' do), a leading '.' becomes '_', and the stem is cut to 200 bytes. If a stem was already
// given out by this namer, "-2", "-3", ... is appended: names are stable for the same list of
// stimuli in the same order.
class StimulusFileNamer {
 public:
  std::string stem_for(const std::string& id);

 private:
  std::set<std::string> used_;
};

// A 16-bit PNG of float32 [C,H,W] pixels, C = 1 (gray) or 3 (RGB): round(clamp(v,0,1) * 65535).
// Returns the number of values that were clamped. Throws OutputError.
int64_t write_png(const std::string& path, const at::Tensor& pixels);

// The tensor as a NumPy .npy file (format 1.0, little-endian float32 '<f4', C order, its own
// shape). Throws OutputError.
void write_npy(const std::string& path, const at::Tensor& values);

}  // namespace torchprobe
