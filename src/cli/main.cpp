#include "cli/app.h"

int main(int argc, char** argv) { return torchprobe::cli::run(argc, argv); }
