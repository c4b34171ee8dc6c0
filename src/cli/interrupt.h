#pragma once
// SIGINT and SIGTERM during a run: the first one asks the probe to stop after the current batch
// (the output then keeps every finished batch, and a JSON Lines run can be --resume'd); a second
// one kills the process at once (the handlers are one-shot).
//
//   install_interrupt_handlers();
//   int signal = interrupt_signal();  // between batches: 0, SIGINT or SIGTERM
namespace torchprobe::cli {

void install_interrupt_handlers();
// 0, or the signal (SIGINT, SIGTERM) that asked to stop.
int interrupt_signal();

}  // namespace torchprobe::cli
