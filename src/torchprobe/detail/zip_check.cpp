#include "torchprobe/detail/zip_check.h"

#include <algorithm>
#include <fstream>
#include <vector>
#include <zlib.h>

#include "torchprobe/detail/zip_directory.h"

namespace torchprobe {
namespace {

constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr std::size_t kPiece = 64 * 1024;

uint32_t number(const unsigned char* bytes, int size) {
  uint32_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = value << 8 | bytes[i];
  return value;
}

// The CRC-32 and length of data as it comes out of an entry, piece by piece.
struct Output {
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t length = 0;
  void add(const unsigned char* data, std::size_t size) {
    crc = crc32(crc, data, uInt(size));
    length += size;
  }
};

// Reads `size` bytes of entry data from `in` in pieces, handing each to `take`; false when the
// file ends early or `take` says stop.
template <typename Take>
bool read_pieces(std::istream& in, uint64_t size, Take take) {
  std::vector<unsigned char> piece(kPiece);
  while (size > 0) {
    const std::size_t n = std::size_t(std::min<uint64_t>(size, kPiece));
    if (!in.read(reinterpret_cast<char*>(piece.data()), std::streamsize(n))) return false;
    if (!take(piece.data(), n)) return false;
    size -= n;
  }
  return true;
}

// Inflates `entry`'s raw deflate data into `out`, stopping past its declared size (a bomb).
bool inflate_entry(std::istream& in, const ZipEntry& entry, Output& out) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return false;
  std::vector<unsigned char> inflated(kPiece);
  int status = Z_OK;
  const bool read = read_pieces(in, entry.compressed, [&](unsigned char* data, std::size_t n) {
    stream.next_in = data;
    stream.avail_in = uInt(n);
    while (stream.avail_in > 0 && status == Z_OK) {
      stream.next_out = inflated.data();
      stream.avail_out = uInt(inflated.size());
      status = inflate(&stream, Z_NO_FLUSH);
      if (status != Z_OK && status != Z_STREAM_END) return false;
      out.add(inflated.data(), inflated.size() - stream.avail_out);
      if (out.length > entry.uncompressed) return false;
    }
    return true;
  });
  inflateEnd(&stream);
  return read && status == Z_STREAM_END;
}

// Where `entry`'s data starts: after its local header, whose name and extra field may differ in
// length from the directory's.
bool seek_data(std::istream& in, const ZipEntry& entry, uint64_t file_size) {
  unsigned char header[kLocalHeaderSize];
  in.clear();
  in.seekg(std::streamoff(entry.local_offset));
  if (!in.read(reinterpret_cast<char*>(header), kLocalHeaderSize)) return false;
  if (number(header, 4) != kLocalSignature) return false;
  const uint64_t start =
      entry.local_offset + kLocalHeaderSize + number(header + 26, 2) + number(header + 28, 2);
  if (start > file_size || entry.compressed > file_size - start) return false;
  in.seekg(std::streamoff(start));
  return bool(in);
}

std::string entry_data_problem(std::istream& in, const ZipEntry& entry, uint64_t file_size) {
  if (entry.method != 0 && entry.method != 8) return "";  // LibTorch's own error then
  if (!seek_data(in, entry, file_size)) return entry.label() + " has a damaged local header";
  Output out;
  auto add = [&out](unsigned char* data, std::size_t n) {
    out.add(data, n);
    return true;
  };
  const bool read =
      entry.method == 0 ? read_pieces(in, entry.compressed, add) : inflate_entry(in, entry, out);
  if (!read || out.length != entry.uncompressed) {
    return entry.label() + " is damaged (its data does not " +
           (entry.method == 8 ? "inflate to" : "have") + " the size the directory records)";
  }
  if (out.crc != entry.crc32) {
    return entry.label() + " does not match its CRC-32 (a corrupted copy?)";
  }
  return "";
}

}  // namespace

std::string zip_archive_problem(const std::string& path, uint64_t file_size) {
  std::vector<ZipEntry> entries;
  std::string problem = read_zip_directory(path, file_size, entries);
  if (!problem.empty()) return problem;
  std::ifstream in(path, std::ios::binary);
  for (const ZipEntry& entry : entries) {
    problem = entry_data_problem(in, entry, file_size);
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace torchprobe
