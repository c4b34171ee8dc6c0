#pragma once
// SHA-256 of files and byte strings, as lowercase hex.
//
//   std::string digest = torchprobe::sha256_file("model.pt");  // throws std::runtime_error if unreadable
#include <cstdint>
#include <string>

namespace torchprobe {

std::string sha256_bytes(const void* data, std::size_t size);
// Throws std::runtime_error when the file cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace torchprobe
