#pragma once
// The central directory of a zip archive (a TorchScript .pt file), read and checked before
// LibTorch reads the file; zip_check.h then checks each entry's data.
//
//   std::vector<torchprobe::ZipEntry> entries;
//   std::string why = torchprobe::read_zip_directory("model.pt", file_size, entries);
//   if (!why.empty()) { /* refuse the file: "the archive is damaged: " + why */ }
//
// NOTE: LibTorch's zip reader (miniz) allocates each entry's declared uncompressed size before
// inflating it. It checks that a stored entry declares its own size and that the data lies
// inside the file, but not that a deflated entry's size is one its compressed bytes can expand
// to: four changed bytes in a 4 KB model declared 1.2 GB for a 412-byte code file, and loading
// it took 7 GB and 22 s (found by model_load_fuzzer). Deflate expands at most 1032:1 (zlib's
// bound), so a larger claim is a damaged or hostile archive.
#include <cstdint>
#include <string>
#include <vector>

namespace torchprobe {

struct ZipEntry {
  std::string name;
  uint64_t method = 0;  // 0 stored, 8 deflated
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
  uint64_t local_offset = 0;  // of its local header
  uint32_t crc32 = 0;

  // "entry 'NAME'" for a message, bytes outside printable ASCII shown as '?'.
  std::string label() const;
};

// Reads the central directory (zip64 included) into `entries`. Returns "" when it reads and
// every entry's data lies inside the file with a size its method can produce; else what is
// wrong, one line. `file_size` is the size of the file at `path`, which ends in a zip end record.
std::string read_zip_directory(const std::string& path, uint64_t file_size,
                               std::vector<ZipEntry>& entries);

}  // namespace torchprobe
