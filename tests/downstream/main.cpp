// Lists a model's layers and captures one through the installed library.
#include <iostream>
#include <torchprobe/torchprobe.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: downstream MODEL LAYER\n";
    return 2;
  }
  try {
    auto model = torchprobe::Model::load(argv[1]);
    model.set_mode(torchprobe::Mode::kEval);
    auto program = torchprobe::CaptureProgram::build(model, {argv[2]}, {});
    auto captures = program.run(torch::ones({1, 3, 64, 64}));
    for (const auto& c : captures.captures) std::cout << c.name << " " << c.value.sizes() << "\n";
  } catch (const torchprobe::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return int(e.code());
  }
  return 0;
}
