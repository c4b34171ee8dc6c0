#pragma once
// Writing stimuli and model inputs to files, for people (PNG) and for numpy (.npy).
//
//   std::string stem = torchprobe::stimulus_file_stem("grating:ori=45,sf=4,phase=0,contrast=1");
//   // "grating%3Aori=45,sf=4,phase=0,contrast=1"
//   torchprobe::write_png("out/" + stem + ".png", pixels);   // [C,H,W] in [0,1]
//   torchprobe::write_npy("out/" + stem + ".npy", pixels);   // exact float32
//   torchprobe::write_file_manifest("out", {{id, stem + ".png"}, ...});   // out/manifest.json
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace torchprobe {

// The file name stem for a stimulus id, injective: every byte outside [A-Za-z0-9._,=+@-], and a
// leading '.', is written %XX (upper-case hex), so "a/b.jpg" is "a%2Fb.jpg" and "a_b.jpg" stays
// itself. A stem longer than 200 bytes keeps its first 180 and adds "~" and 16 hex digits of the
// id's sha256 ('~' appears in no other stem). The same id always gets the same name, whatever
// the list around it.
std::string stimulus_file_stem(const std::string& id);

// Which file holds which stimulus: DIR/manifest.json, {"files": [{"id", "file"}, ...]} in list
// order, "file" relative to DIR. Written atomically. Throws OutputError.
struct StimulusFile {
  std::string id;
  std::string file;
};
void write_file_manifest(const std::string& dir, const std::vector<StimulusFile>& files);

// A 16-bit PNG of float32 [C,H,W] pixels, C = 1 (gray) or 3 (RGB): round(clamp(v,0,1) * 65535).
// Returns the number of values that were clamped. Throws OutputError.
int64_t write_png(const std::string& path, const at::Tensor& pixels);

// The tensor as a NumPy .npy file (format 1.0, little-endian float32 '<f4', C order, its own
// shape). Throws OutputError.
void write_npy(const std::string& path, const at::Tensor& values);

}  // namespace torchprobe
