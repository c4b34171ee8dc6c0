#pragma once
// Checks a zip archive (a TorchScript .pt file) before LibTorch reads it: its central directory
// (zip_directory.h), then every entry's data against the CRC-32 the directory records.
//
//   std::string why = torchprobe::zip_archive_problem("model.pt", file_size);
//   if (!why.empty()) { /* refuse the file: "the archive is damaged: " + why */ }
//
// NOTE: LibTorch 1.13 checks no CRC-32: a flipped bit in a weight loads silently as another
// weight, and two changed bytes (a code file and its debug pickle) corrupted LibTorch's heap
// ("malloc_consolidate(): invalid chunk size", found by model_load_fuzzer). One pass over the
// file (about 25 ms for a 47 MB ResNet-18, against 1.4 s to load it) refuses both. An archive
// crafted with matching CRCs still reaches LibTorch's parsers: see docs/reliability.md.
#include <cstdint>
#include <string>

namespace torchprobe {

// "" when the directory reads and every stored or deflated entry's data matches its size and
// CRC-32; else what is wrong, one line. Entries of other methods are left to LibTorch (which
// cannot read them). `file_size` is the size of the file at `path`, which ends in a zip end
// record. Memory stays flat: entries are read and inflated in 64 KiB pieces.
std::string zip_archive_problem(const std::string& path, uint64_t file_size);

}  // namespace torchprobe
