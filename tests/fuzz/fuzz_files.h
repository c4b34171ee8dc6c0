#pragma once
// Helpers for the fuzz targets that hand torchprobe files, as the CLI does: a scratch directory
// of this process's own, and one input split into two texts at its first 0 byte (JSON text never
// holds a raw 0, so the seeds are two real files joined by one).
//
//   auto [first, second] = torchprobe::fuzz::split_at_nul(data, size);
//   std::string path = torchprobe::fuzz::scratch_path("merge", "p1.jsonl");
//   torchprobe::fuzz::write_file(path, first);
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>

namespace torchprobe::fuzz {

// `name` in /tmp/torchprobe-fuzz-<target>-<pid>/, created on first use and removed when the
// process exits (as libFuzzer's runs and fork-mode jobs do, unless they crash).
inline std::string scratch_path(const std::string& target, const std::string& name) {
  static const struct Dir {
    std::filesystem::path path;
    ~Dir() {
      std::error_code error;
      std::filesystem::remove_all(path, error);
    }
  } dir{std::filesystem::temp_directory_path() /
        ("torchprobe-fuzz-" + target + "-" + std::to_string(::getpid()))};
  std::filesystem::create_directories(dir.path);
  return (dir.path / name).string();
}

inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), std::streamsize(bytes.size()));
}

// The input before and after its first 0 byte; without one, all of it and nothing.
inline std::pair<std::string_view, std::string_view> split_at_nul(const uint8_t* data,
                                                                  std::size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = all.find('\0');
  if (nul == std::string_view::npos) return {all, std::string_view()};
  return {all.substr(0, nul), all.substr(nul + 1)};
}

}  // namespace torchprobe::fuzz
