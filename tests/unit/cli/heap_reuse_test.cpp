#include "cli/heap_reuse.h"

#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace torchprobe {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kGlibcMalloc = false;  // AddressSanitizer brings its own malloc
#elif defined(__GLIBC__)
constexpr bool kGlibcMalloc = true;
#else
constexpr bool kGlibcMalloc = false;
#endif

TEST(HeapReuse, LargeBlocksComeFromTheHeapAndStayThereWhenFreed) {
  if (!kGlibcMalloc) GTEST_SKIP() << "malloc is not glibc's here";
#if defined(__GLIBC__)
  constexpr std::size_t kBlock = std::size_t(64) << 20;  // above glibc's largest mmap threshold
  keep_freed_memory_for_reuse();
  const struct mallinfo2 before = mallinfo2();
  void* block = std::malloc(kBlock);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  const struct mallinfo2 allocated = mallinfo2();
  EXPECT_EQ(allocated.hblks, before.hblks) << "the block was mmapped";
  EXPECT_GE(allocated.arena, before.arena + kBlock) << "the block is not in the heap";
  std::free(block);
  const struct mallinfo2 freed = mallinfo2();
  EXPECT_GE(freed.arena, before.arena + kBlock) << "the heap was trimmed";
  EXPECT_GE(freed.fordblks, kBlock) << "the freed block is not free heap memory";
  // The next batch's block of that size is the same memory, already mapped.
  void* again = std::malloc(kBlock);
  EXPECT_EQ(again, block);
  std::free(again);
#endif
}

}  // namespace
}  // namespace torchprobe
