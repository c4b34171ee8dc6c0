#include "torchprobe/detail/sha256.h"

#include <cerrno>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <vector>

namespace torchprobe {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256, MatchesStandardTestVectors) {
  EXPECT_EQ(sha256_bytes("", 0),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_bytes("abc", 3),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_bytes(two_blocks.data(), two_blocks.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MillionAsStandardVector) {
  const std::string a(1000000, 'a');
  for (bool hardware : {false, true}) {
    EXPECT_EQ(detail::sha256_bytes_with(hardware, a.data(), a.size()),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

// The SHA-NI path (on CPUs that have it, as this project's CI machine) against the portable code,
// for every length around the block and padding boundaries and a large buffer.
TEST(Sha256, HardwareAndPortableCodeAgree) {
  if (!detail::sha256_hardware_available()) GTEST_SKIP() << "this CPU has no SHA extensions";
  std::mt19937 rng(3);
  std::vector<unsigned char> data(1 << 20);
  for (auto& byte : data) byte = static_cast<unsigned char>(rng());
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n <= 260; ++n) sizes.push_back(n);
  sizes.push_back(data.size());
  sizes.push_back(data.size() - 7);
  for (std::size_t n : sizes) {
    ASSERT_EQ(detail::sha256_bytes_with(true, data.data(), n),
              detail::sha256_bytes_with(false, data.data(), n))
        << n << " bytes";
  }
}

TEST(Sha256, UnreadableFileHasNoDigestAndSetsErrno) {
  EXPECT_EQ(sha256_file("/nonexistent"), std::nullopt);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(sha256_file("/"), std::nullopt);  // a directory opens but cannot be read
}

}  // namespace
}  // namespace torchprobe
