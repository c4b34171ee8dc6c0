#pragma once
// Process set-up for repeated forwards: freed memory stays in the heap for the next batch.
//
//   int main() {
//     torchprobe::keep_freed_memory_for_reuse();   // once, before the first forward
//     ...
//   }
//
// Why: glibc serves blocks above its mmap threshold (128 KiB, rising to at most 32 MiB) with a
// fresh mmap and gives a freed heap top back to the kernel, so every forward page-faults and
// zeroes its activation maps again (GoogLeNet conv1 at batch 16: 51 MB). Profiled here, the
// kernel's page-fault work was a fifth of a GoogLeNet forward. With mmap off and the heap never
// trimmed, a batch reuses the memory the previous one freed. Peak memory stays about the same
// (the heap coalesces freed blocks); memory is given back to the kernel only at exit, which
// suits a process that runs forwards until it ends. Process-wide: call it from main(), not from
// a library that shares the process with others. A no-op where malloc is not glibc's (and under
// sanitizers, which bring their own).
namespace torchprobe {

void keep_freed_memory_for_reuse();

}  // namespace torchprobe
