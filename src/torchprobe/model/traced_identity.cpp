#include "torchprobe/model/traced_identity.h"

#include <map>
#include <unordered_map>

#include "torchprobe/model/module_paths.h"

namespace torchprobe {
namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;
using ObjectPtr = c10::intrusive_ptr<c10::ivalue::Object>;

bool is_identity_call(Node* node) {
  return node->kind() == c10::prim::CallMethod && node->inputs().size() == 1 &&
         node->outputs().size() == 1 && node->output()->type()->kind() == c10::TypeKind::NoneType &&
         is_forward_method(node->s(c10::attr::name));
}

bool is_tensor_used_after(Value* value, Node* call) {
  if (!value->type()->cast<c10::TensorType>()) return false;
  for (const auto& use : value->uses()) {
    if (use.user->isAfter(call)) return true;
  }
  return false;
}

// The tensor computed last before `call` (in its block, else an enclosing one) that is used
// after it. NOTE: a guess: the trace does not record what the module was given, but a module that
// returned its input most often got the value just made (EfficientNet: `block`'s output, then
// added to the residual), and the caller must go on with that value for the module to matter.
Value* value_passed_on(Node* call) {
  for (Node* at = call; at; at = at->owningBlock()->owningNode()) {
    Block* block = at->owningBlock();
    for (Node* node = at->prev(); node != block->param_node(); node = node->prev()) {
      // NOTE: a parameter or buffer read for later is not what flows through the model.
      if (node->kind() == c10::prim::GetAttr || node->kind() == c10::prim::Constant) continue;
      for (Value* output : node->outputs()) {
        if (is_tensor_used_after(output, call)) return output;
      }
    }
    for (auto input = block->inputs().rbegin(); input != block->inputs().rend(); ++input) {
      if (is_tensor_used_after(*input, call)) return *input;
    }
  }
  return nullptr;
}

class Finder {
 public:
  explicit Finder(const Model& model) {
    for (const auto& entry : model.modules())
      names_.emplace(entry.module._ivalue().get(), entry.name);
  }

  // Every method of `object` (named `owner`, "" for the root).
  void scan(const ObjectPtr& object, const std::string& owner) {
    for (torch::jit::Function* method : object->type()->methods()) {
      auto* fn = torch::jit::tryToGraphFunction(*method);
      if (!fn) continue;
      Frame frame{fn->graph()->inputs()[0], object, owner, is_forward_method(method->name())};
      scan_block(fn->graph()->block(), frame);
    }
  }

  std::map<std::string, std::string> found;  // layer -> passes_on

 private:
  struct Frame {
    Value* self;
    ObjectPtr object;
    std::string owner;
    bool forward;  // the method is a forward: its input is the owner's input
  };

  void scan_block(Block* block, const Frame& frame) {
    for (Node* node : block->nodes()) {
      for (Block* inner : node->blocks()) scan_block(inner, frame);
      if (!is_identity_call(node)) continue;
      std::string layer = module_called(node, frame);
      if (layer.empty()) continue;
      std::string& passes_on = found[layer];
      if (passes_on.empty()) passes_on = name_value(value_passed_on(node), node, frame);
    }
  }

  // The name of the module a forward call calls, or "".
  std::string module_called(Node* node, const Frame& frame) const {
    if (node->kind() != c10::prim::CallMethod || !is_forward_method(node->s(c10::attr::name))) {
      return "";
    }
    ObjectPtr callee = resolve_object(node->input(0), frame.self, frame.object);
    auto name = callee ? names_.find(callee.get()) : names_.end();
    return name == names_.end() ? "" : name->second;
  }

  // A capture name for `value`, as TracedIdentity::passes_on describes.
  std::string name_value(Value* value, Node* call, const Frame& frame) const {
    if (!value) return "";
    std::string producer = module_called(value->node(), frame);
    if (!producer.empty()) return producer;
    Node* next = nullptr;
    for (const auto& use : value->uses()) {
      if (use.offset == 1 && use.user->isAfter(call) && !module_called(use.user, frame).empty() &&
          (!next || use.user->isBefore(next))) {
        next = use.user;
      }
    }
    if (next) return module_called(next, frame) + ":in";
    bool is_argument = value->node() == value->owningGraph()->param_node();
    return is_argument && frame.forward && !frame.owner.empty() ? frame.owner + ":in" : "";
  }

  std::unordered_map<const c10::ivalue::Object*, std::string> names_;
};

}  // namespace

std::vector<TracedIdentity> traced_identities(const Model& model) {
  Finder finder(model);
  finder.scan(model.module()._ivalue(), "");
  for (const auto& entry : model.modules()) finder.scan(entry.module._ivalue(), entry.name);
  std::vector<TracedIdentity> out;
  for (const auto& entry : model.modules()) {
    auto found = finder.found.find(entry.name);
    if (found != finder.found.end()) out.push_back({entry.name, found->second});
  }
  return out;
}

}  // namespace torchprobe
