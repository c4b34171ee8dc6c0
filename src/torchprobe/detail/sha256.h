#pragma once
// SHA-256 of files and byte strings, as lowercase hex.
//
//   std::optional<std::string> digest = torchprobe::sha256_file("model.pt");
//   if (!digest) ...  // unreadable: errno says why; the caller knows which error that is
#include <cstdint>
#include <optional>
#include <string>

namespace torchprobe {

std::string sha256_bytes(const void* data, std::size_t size);
// nullopt when the file cannot be opened or read, with errno set to the reason.
std::optional<std::string> sha256_file(const std::string& path);

namespace detail {
// Whether this CPU has the SHA extensions, which sha256_bytes/sha256_file then use.
bool sha256_hardware_available();
// sha256_bytes with the hardware path (where available) or the portable code: for tests.
std::string sha256_bytes_with(bool hardware, const void* data, std::size_t size);
}  // namespace detail

}  // namespace torchprobe
