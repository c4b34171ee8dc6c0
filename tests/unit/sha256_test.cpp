#include "torchprobe/sha256.h"

#include <gtest/gtest.h>

namespace torchprobe {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256, MatchesStandardTestVectors) {
  EXPECT_EQ(sha256_bytes("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_bytes("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_bytes(two_blocks.data(), two_blocks.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, FileErrorsThrow) { EXPECT_THROW(sha256_file("/nonexistent"), std::runtime_error); }

}  // namespace
}  // namespace torchprobe
