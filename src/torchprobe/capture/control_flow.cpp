#include "torchprobe/capture/control_flow.h"

#include <set>
#include <utility>

#include "torchprobe/capture/source_line.h"

namespace torchprobe {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

constexpr int kMaxDepth = 64;

bool holds_tensor(const c10::TypePtr& type) {
  if (type->cast<c10::TensorType>()) return true;
  if (auto optional = type->cast<c10::OptionalType>())
    return holds_tensor(optional->getElementType());
  if (auto list = type->cast<c10::ListType>()) return holds_tensor(list->getElementType());
  if (auto tuple = type->cast<c10::TupleType>()) {
    for (const auto& element : tuple->elements()) {
      if (holds_tensor(element)) return true;
    }
  }
  return false;
}

// Ops that read a tensor's metadata, never its values.
bool reads_metadata_only(c10::Symbol kind) {
  static const std::set<std::string> kinds = {
      "aten::dim",
      "aten::size",
      "aten::len",
      "aten::numel",
      "prim::shape",
      "prim::dtype",
      "prim::device",
      "prim::layout",
      "prim::is_cuda",
      "prim::requires_grad",
      "aten::is_floating_point",
      "aten::is_complex",
      "aten::__is__",
      "aten::__isnot__",
      "aten::get_device",
      "prim::is_quantized",
      "prim::is_sparse",
      "prim::is_mkldnn",
      "prim::is_meta",
      "aten::format",
      "aten::str",
  };
  return kinds.count(kind.toQualString()) > 0;
}

// The graph a prim::CallMethod / prim::CallFunction node runs, or nullptr.
std::shared_ptr<Graph> callee_graph(Node* node) {
  try {
    if (node->kind() == c10::prim::CallMethod) {
      auto type = node->input(0)->type()->cast<c10::ClassType>();
      if (!type) return nullptr;
      auto* method = type->findMethod(node->s(c10::attr::name));
      if (!method) return nullptr;
      return torch::jit::toGraphFunction(*method).graph();
    }
    if (node->kind() == c10::prim::CallFunction) {
      auto type = node->input(0)->type()->cast<c10::FunctionType>();
      if (!type) return nullptr;
      return torch::jit::toGraphFunction(*type->function()).graph();
    }
  } catch (const std::exception&) {
  }
  return nullptr;
}

std::string location_of(Node* node) {
  std::string what = node->kind() == c10::prim::If ? "an if" : "a loop";
  std::string where = source_line(node);
  return where.empty() ? what : what + " at " + where;
}

// A call stack entry: the call node whose callee graph is being searched.
struct Frame {
  Node* call;
  const Frame* parent;
  int id;
};

class Search {
 public:
  std::optional<std::string> found;

  void walk(Block* block, const Frame* frame, int depth) {
    for (Node* node : block->nodes()) {
      if (found) return;
      if (node->kind() == c10::prim::If) {
        if (depends_on_values(node->input(0), frame, depth)) found = location_of(node);
      } else if (node->kind() == c10::prim::Loop) {
        Block* body = node->blocks()[0];
        if (depends_on_values(node->input(0), frame, depth) ||
            depends_on_values(node->input(1), frame, depth) ||
            depends_on_values(body->outputs()[0], frame, depth)) {
          found = location_of(node);
        }
      } else if (depth < kMaxDepth) {
        if (auto graph = callee_graph(node)) {
          Frame inner{node, frame, ++frames_};
          walk(graph->block(), &inner, depth + 1);
        }
      }
      for (Block* inner : node->blocks()) walk(inner, frame, depth);
    }
  }

 private:
  int frames_ = 0;
  std::set<std::pair<const Value*, int>> seen_;

  // Whether the non-tensor `value` is computed from some tensor's values.
  bool depends_on_values(Value* value, const Frame* frame, int depth) {
    if (!seen_.insert({value, frame ? frame->id : 0}).second) return false;
    Node* node = value->node();
    if (node->kind() == c10::prim::Param) return parameter_depends(value, frame, depth);
    if (node->kind() == c10::prim::Constant || node->kind() == c10::prim::GetAttr ||
        reads_metadata_only(node->kind())) {
      return false;
    }
    if (node->kind() == c10::prim::If) {
      std::size_t i = value->offset();
      if (depends_on_values(node->input(0), frame, depth)) return true;
      for (Block* b : node->blocks()) {
        if (depends_on_values(b->outputs()[i], frame, depth)) return true;
      }
      return false;
    }
    if (node->kind() == c10::prim::Loop) {
      std::size_t i = value->offset();  // loop outputs: the carried values
      Block* body = node->blocks()[0];
      return depends_on_values(node->input(0), frame, depth) ||
             depends_on_values(node->input(i + 2), frame, depth) ||
             depends_on_values(body->outputs()[i + 1], frame, depth);
    }
    if (auto graph = callee_graph(node)) {
      if (depth >= kMaxDepth) return true;
      Frame inner{node, frame, ++frames_};
      return depends_on_values(graph->outputs()[value->offset()], &inner, depth + 1);
    }
    for (Value* input : node->inputs()) {
      if (holds_tensor(input->type())) return true;  // a tensor's values made into a scalar
      if (depends_on_values(input, frame, depth)) return true;
    }
    return false;
  }

  // A block parameter: a method's argument (look in the caller) or a loop's counter / carried
  // value.
  bool parameter_depends(Value* value, const Frame* frame, int depth) {
    Block* block = value->node()->owningBlock();
    Node* owner = block ? block->owningNode() : nullptr;
    std::size_t i = value->offset();
    if (!owner) {  // the graph's own inputs
      if (!frame) return false;
      std::size_t argument = frame->call->kind() == c10::prim::CallFunction ? i + 1 : i;
      if (argument >= frame->call->inputs().size()) return true;
      Value* input = frame->call->input(argument);
      if (holds_tensor(input->type())) return false;  // reached only through a metadata read
      return depends_on_values(input, frame->parent, depth - 1);
    }
    if (owner->kind() == c10::prim::Loop) {
      if (i == 0) return false;  // the iteration counter
      return depends_on_values(owner->input(i + 1), frame, depth) ||
             depends_on_values(block->outputs()[i], frame, depth);
    }
    return false;
  }
};

}  // namespace

std::optional<std::string> value_dependent_control_flow(const Graph& graph) {
  Search search;
  search.walk(const_cast<Graph&>(graph).block(), nullptr, 0);
  return search.found;
}

}  // namespace torchprobe
