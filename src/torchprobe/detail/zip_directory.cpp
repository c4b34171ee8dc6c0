#include "torchprobe/detail/zip_directory.h"

#include <algorithm>
#include <fstream>
#include <utility>

namespace torchprobe {
namespace {

constexpr uint64_t kMaxDeflateRatio = 1032;  // zlib: deflate expands at most 1032:1
constexpr uint64_t kEndRecordSize = 22;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kZip64EndRecordSize = 56;
constexpr uint64_t kEntryHeaderSize = 46;
constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kMax16 = 0xFFFF;
constexpr uint64_t kMax32 = 0xFFFFFFFF;  // "see the zip64 field"
const std::string kEndSignature("PK\x05\x06", 4);
constexpr uint64_t kEntrySignature = 0x02014b50;
constexpr uint64_t kZip64LocatorSignature = 0x07064b50;
constexpr uint64_t kZip64EndSignature = 0x06064b50;

// The little-endian number of `size` bytes at `at` (the caller checks that they are there).
uint64_t number(const std::string& bytes, uint64_t at, int size) {
  uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = value << 8 | uint8_t(bytes[at + uint64_t(i)]);
  return value;
}

// Up to `size` bytes of the file from `offset` (fewer at its end).
std::string read_at(const std::string& path, uint64_t offset, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(std::streamoff(offset));
  std::string bytes(size, '\0');
  in.read(bytes.data(), std::streamsize(size));
  bytes.resize(in ? size : std::size_t(std::max<std::streamsize>(in.gcount(), 0)));
  return bytes;
}

struct Directory {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t entries = 0;
};

// The zip64 end record's directory, found through the locator right before the end record.
std::string read_zip64_end(const std::string& path, uint64_t end_at, Directory& directory) {
  if (end_at < kZip64LocatorSize) return "its zip64 end record is missing";
  const std::string locator = read_at(path, end_at - kZip64LocatorSize, kZip64LocatorSize);
  if (locator.size() < kZip64LocatorSize || number(locator, 0, 4) != kZip64LocatorSignature) {
    return "its zip64 end record is missing";
  }
  const std::string record = read_at(path, number(locator, 8, 8), kZip64EndRecordSize);
  if (record.size() < kZip64EndRecordSize || number(record, 0, 4) != kZip64EndSignature) {
    return "its zip64 end record is damaged";
  }
  directory.entries = number(record, 32, 8);
  directory.size = number(record, 40, 8);
  directory.offset = number(record, 48, 8);
  return "";
}

// Where the central directory lies, from the last end record in the file's last 64 KiB.
std::string locate_directory(const std::string& path, uint64_t file_size, Directory& directory) {
  const uint64_t window = std::min<uint64_t>(file_size, kMax16 + kEndRecordSize);
  const std::string tail = read_at(path, file_size - window, window);
  const std::size_t end = tail.rfind(kEndSignature);
  if (end == std::string::npos || end + kEndRecordSize > tail.size()) {
    return "it has no zip end record";
  }
  directory.entries = number(tail, end + 10, 2);
  directory.size = number(tail, end + 12, 4);
  directory.offset = number(tail, end + 16, 4);
  if (directory.entries == kMax16 || directory.size == kMax32 || directory.offset == kMax32) {
    std::string problem = read_zip64_end(path, file_size - window + end, directory);
    if (!problem.empty()) return problem;
  }
  if (directory.offset > file_size || directory.size > file_size - directory.offset) {
    return "its central directory lies past the end of the file";
  }
  return "";
}

// Replaces the sizes and offset that say 0xFFFFFFFF by the zip64 extra field's 64-bit values.
bool read_zip64_field(const std::string& extra, ZipEntry& entry) {
  uint64_t* const values[] = {&entry.uncompressed, &entry.compressed, &entry.local_offset};
  for (uint64_t at = 0; at + 4 <= extra.size();) {
    const uint64_t id = number(extra, at, 2), size = number(extra, at + 2, 2);
    if (at + 4 + size > extra.size()) return false;
    if (id == 1) {
      uint64_t field = at + 4;
      for (uint64_t* value : values) {
        if (*value != kMax32) continue;
        if (field + 8 > at + 4 + size) return false;
        *value = number(extra, field, 8);
        field += 8;
      }
    }
    at += 4 + size;
  }
  return std::none_of(std::begin(values), std::end(values),
                      [](const uint64_t* value) { return *value == kMax32; });
}

std::string entry_problem(const ZipEntry& entry, uint64_t file_size) {
  const std::string named = entry.label();
  const uint64_t room = entry.local_offset > file_size ? 0 : file_size - entry.local_offset;
  if (room < kLocalHeaderSize || entry.compressed > room - kLocalHeaderSize) {
    return named + " lies past the end of the file";
  }
  if (entry.method == 0 && entry.uncompressed != entry.compressed) {
    return named + " is stored in " + std::to_string(entry.compressed) + " bytes but declares " +
           std::to_string(entry.uncompressed);
  }
  if (entry.method == 8 && entry.uncompressed / kMaxDeflateRatio > entry.compressed) {
    return named + " declares " + std::to_string(entry.uncompressed) + " bytes from " +
           std::to_string(entry.compressed) + " compressed, more than deflate expands (1032:1)";
  }
  return "";
}

// Reads and checks the entries of the central directory `bytes`; `count` is what the end record
// says.
std::string read_entries(const std::string& bytes, uint64_t count, uint64_t file_size,
                         std::vector<ZipEntry>& entries) {
  uint64_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const std::string damaged =
        "its central directory is damaged at entry " + std::to_string(i + 1);
    if (at + kEntryHeaderSize > bytes.size() || number(bytes, at, 4) != kEntrySignature) {
      return damaged;
    }
    const uint64_t name_size = number(bytes, at + 28, 2), extra_size = number(bytes, at + 30, 2);
    const uint64_t next =
        at + kEntryHeaderSize + name_size + extra_size + number(bytes, at + 32, 2);
    if (next > bytes.size()) return damaged;
    ZipEntry entry;
    entry.name = bytes.substr(at + kEntryHeaderSize, name_size);
    entry.method = number(bytes, at + 10, 2);
    entry.crc32 = uint32_t(number(bytes, at + 16, 4));
    entry.compressed = number(bytes, at + 20, 4);
    entry.uncompressed = number(bytes, at + 24, 4);
    entry.local_offset = number(bytes, at + 42, 4);
    if (!read_zip64_field(bytes.substr(at + kEntryHeaderSize + name_size, extra_size), entry)) {
      return damaged + " (its zip64 sizes)";
    }
    std::string problem = entry_problem(entry, file_size);
    if (!problem.empty()) return problem;
    entries.push_back(std::move(entry));
    at = next;
  }
  return "";
}

}  // namespace

std::string ZipEntry::label() const {
  std::string shown = name.substr(0, 200);
  for (char& c : shown) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return "entry '" + shown + "'";
}

std::string read_zip_directory(const std::string& path, uint64_t file_size,
                               std::vector<ZipEntry>& entries) {
  Directory directory;
  std::string problem = locate_directory(path, file_size, directory);
  if (!problem.empty()) return problem;
  // NOTE: the directory's size is checked against the file's above: this reads no more than it.
  const std::string bytes = read_at(path, directory.offset, directory.size);
  if (bytes.size() < directory.size) return "its central directory cannot be read";
  return read_entries(bytes, directory.entries, file_size, entries);
}

}  // namespace torchprobe
