#include "cli/heap_reuse.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace torchprobe {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);         // every block from the heap, none from a fresh mmap
  mallopt(M_TRIM_THRESHOLD, -1);  // -1: never give the heap top back (man 3 mallopt)
#endif
}

}  // namespace torchprobe
