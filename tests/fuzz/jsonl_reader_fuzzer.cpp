// libFuzzer target: the line-by-line JSON Lines reader that --resume and merge use (torn last
// lines, headers, records). Malformed input must end in a torchprobe::Error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "torchprobe/errors.h"
#include "torchprobe/results/jsonl_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const std::string path =
      "/tmp/torchprobe-fuzz-jsonl-" + std::to_string(::getpid()) + ".jsonl";
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  try {
    torchprobe::JsonlReader reader(path);
    std::string line;
    bool first = true;
    while (reader.next_line(line)) {
      if (first) {
        reader.parse_header(line);
        first = false;
      } else {
        reader.parse_object(line);
      }
    }
    (void)reader.torn();
    (void)reader.complete_bytes();
  } catch (const torchprobe::Error&) {
  }
  return 0;
}
