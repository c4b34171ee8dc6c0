#include "torchprobe/model/module_paths.h"

#include <algorithm>

namespace torchprobe {

std::optional<std::vector<std::string>> attribute_chain(torch::jit::Value* value,
                                                        torch::jit::Value* self) {
  std::vector<std::string> chain;
  while (value != self) {
    torch::jit::Node* node = value->node();
    if (node->kind() != c10::prim::GetAttr) return std::nullopt;
    chain.push_back(node->s(c10::attr::name));
    value = node->input(0);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

c10::intrusive_ptr<c10::ivalue::Object> follow_chain(
    const c10::intrusive_ptr<c10::ivalue::Object>& root, const std::vector<std::string>& chain) {
  c10::intrusive_ptr<c10::ivalue::Object> object = root;
  for (const auto& name : chain) {
    if (!object->type()->hasAttribute(name)) return {};
    c10::IValue next = object->getAttr(name);
    if (!next.isObject()) return {};
    object = next.toObject();
  }
  return object;
}

c10::intrusive_ptr<c10::ivalue::Object> resolve_object(
    torch::jit::Value* value, torch::jit::Value* self,
    const c10::intrusive_ptr<c10::ivalue::Object>& root) {
  auto chain = attribute_chain(value, self);
  if (!chain) return {};
  return follow_chain(root, *chain);
}

bool is_forward_method(const std::string& name) { return name.rfind("forward", 0) == 0; }

std::string readable_type_name(const c10::ClassTypePtr& type) {
  if (!type || !type->name()) return "";
  std::string out;
  for (const auto& atom : type->name()->atoms()) {
    if (atom == "__torch__" || atom.rfind("___torch_mangle_", 0) == 0) continue;
    if (!out.empty()) out += ".";
    out += atom;
  }
  return out;
}

}  // namespace torchprobe
