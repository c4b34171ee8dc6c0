#include "torchprobe/stimuli/stimulus_files.h"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "torchprobe/detail/atomic_file.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/detail/sha256.h"
#include "torchprobe/errors.h"

namespace torchprobe {

std::string stimulus_file_stem(const std::string& id) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string stem;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(id[i]);
    const bool safe =
        c != 0 && (std::isalnum(c) || std::strchr("._,=+@-", c)) && !(i == 0 && c == '.');
    if (safe) {
      stem += char(c);
    } else {
      stem += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  if (stem.empty()) return "%";  // the empty id; '%' alone is no escape of anything else
  if (stem.size() <= 200) return stem;
  std::size_t keep = 0;  // whole characters and %XX escapes, up to 180 bytes
  while (true) {
    const std::size_t next = keep + (stem[keep] == '%' ? 3 : 1);
    if (next > 180) break;
    keep = next;
  }
  return stem.substr(0, keep) + "~" + sha256_bytes(id.data(), id.size()).substr(0, 16);
}

void write_file_manifest(const std::string& dir, const std::vector<StimulusFile>& files) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : files) list.push_back({{"id", f.id}, {"file", f.file}});
  AtomicFile out((std::filesystem::path(dir) / "manifest.json").string());
  out.stream() << dump_json({{"files", list}}, /*pretty=*/true) << "\n";
  out.commit();
}

int64_t write_png(const std::string& path, const at::Tensor& pixels) {
  const int64_t c = pixels.size(0), h = pixels.size(1), w = pixels.size(2);
  if (c != 1 && c != 3) {
    throw OutputError(ExitCode::kOutput, "cannot write PNG '" + path + "': " + std::to_string(c) +
                                             " channels (PNG takes 1 or 3)");
  }
  at::Tensor v = pixels.to(at::kFloat).contiguous();
  const int64_t clamped = (v < 0).logical_or(v > 1).sum().item<int64_t>();
  at::Tensor hwc = (v.clamp(0, 1) * 65535.0f).round().to(at::kInt).permute({1, 2, 0}).contiguous();
  cv::Mat image(int(h), int(w), CV_32SC(int(c)), hwc.data_ptr<int32_t>());
  cv::Mat image16;
  image.convertTo(image16, CV_16U);
  if (c == 3) cv::cvtColor(image16, image16, cv::COLOR_RGB2BGR);
  std::vector<unsigned char> bytes;
  bool ok = false;
  try {
    ok = cv::imencode(".png", image16, bytes);
  } catch (const cv::Exception& e) {
    ok = false;
  }
  if (!ok) throw OutputError(ExitCode::kOutput, "cannot write PNG '" + path + "': encoding failed");
  AtomicFile out(path);
  out.stream().write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  out.commit();
  return clamped;
}

void write_npy(const std::string& path, const at::Tensor& values) {
  at::Tensor v = values.to(at::kFloat).contiguous();
  std::string shape = "(";
  for (int64_t i = 0; i < v.dim(); ++i) {
    shape += std::to_string(v.size(i)) + (v.dim() == 1 || i + 1 < v.dim() ? "," : "");
    if (i + 1 < v.dim()) shape += " ";
  }
  shape += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of
  // 64 bytes and ended by '\n'.
  std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  const uint16_t length = uint16_t(header.size());
  AtomicFile out(path);
  auto& s = out.stream();
  s.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {char(length & 0xFF), char(length >> 8)};
  s.write(len, 2);
  s.write(header.data(), std::streamsize(header.size()));
  // NOTE: x86-64 and ARM64 are little-endian, as '<f4' says.
  s.write(reinterpret_cast<const char*>(v.data_ptr<float>()), std::streamsize(v.numel() * 4));
  out.commit();
}

}  // namespace torchprobe
