// value_dependent_control_flow() on small hand-written graphs (TorchScript IR).
#include "torchprobe/capture/control_flow.h"

#include <torch/csrc/jit/ir/irparser.h>

#include <gtest/gtest.h>

namespace {

std::optional<std::string> search(const std::string& ir) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, graph.get());
  return torchprobe::value_dependent_control_flow(*graph);
}

TEST(ControlFlow, FindsAnIfOnATensorsValues) {
  auto where = search(R"IR(
graph(%x : Tensor):
  %t : float = prim::Constant[value=0.5]()
  %g : Tensor = aten::gt(%x, %t)
  %b : bool = aten::Bool(%g)
  %y : Tensor = prim::If(%b)
    block0():
      -> (%x)
    block1():
      -> (%x)
  return (%y))IR");
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->rfind("an if", 0), 0u) << *where;
}

TEST(ControlFlow, IgnoresAnIfOnATensorsShape) {
  EXPECT_FALSE(search(R"IR(
graph(%x : Tensor):
  %four : int = prim::Constant[value=4]()
  %d : int = aten::dim(%x)
  %b : bool = aten::eq(%d, %four)
  %y : Tensor = prim::If(%b)
    block0():
      -> (%x)
    block1():
      -> (%x)
  return (%y))IR")
                   .has_value());
}

TEST(ControlFlow, FindsALoopWhoseContinueFlagReadsValues) {
  auto where = search(R"IR(
graph(%x : Tensor):
  %n : int = prim::Constant[value=9223372036854775807]()
  %true : bool = prim::Constant[value=1]()
  %t : float = prim::Constant[value=1.0]()
  %y : Tensor = prim::Loop(%n, %true, %x)
    block0(%i : int, %z : Tensor):
      %g : Tensor = aten::gt(%z, %t)
      %b : bool = aten::Bool(%g)
      -> (%b, %z)
  return (%y))IR");
  ASSERT_TRUE(where.has_value());
  EXPECT_EQ(where->rfind("a loop", 0), 0u) << *where;
}

TEST(ControlFlow, IgnoresALoopCountedByAnInteger) {
  EXPECT_FALSE(search(R"IR(
graph(%x : Tensor, %k : int):
  %true : bool = prim::Constant[value=1]()
  %y : Tensor = prim::Loop(%k, %true, %x)
    block0(%i : int, %z : Tensor):
      %w : Tensor = aten::relu(%z)
      -> (%true, %w)
  return (%y))IR")
                   .has_value());
}

}  // namespace
