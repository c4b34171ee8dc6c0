#pragma once
// Which module object a TorchScript IR value refers to.
//
// In a method's graph, a submodule is reached by a chain of prim::GetAttr nodes starting at the
// method's `self` input: `%1 = prim::GetAttr[name="inception3a"](%self)`,
// `%2 = prim::GetAttr[name="branch2"](%1)`. Walking that chain back and replaying it on the live
// object gives the module a prim::CallMethod node calls, which is how captures are matched by
// object identity (a module registered under two names is one object).
#include <torch/script.h>

#include <optional>
#include <string>
#include <vector>

namespace torchprobe {

// The attribute names from `self` to `value`, or nullopt when `value` is not such a chain.
std::optional<std::vector<std::string>> attribute_chain(torch::jit::Value* value,
                                                        torch::jit::Value* self);

// The object reached from `root` by `chain`, or nullptr if some attribute is not an object.
c10::intrusive_ptr<c10::ivalue::Object> follow_chain(
    const c10::intrusive_ptr<c10::ivalue::Object>& root, const std::vector<std::string>& chain);

// Resolves the module object `value` refers to in a graph whose input 0 is `root`.
c10::intrusive_ptr<c10::ivalue::Object> resolve_object(
    torch::jit::Value* value, torch::jit::Value* self,
    const c10::intrusive_ptr<c10::ivalue::Object>& root);

// True for the methods that implement a module call: `forward`, traced `forward1`, ...,
// scripted overloads `forward__0`, ...
bool is_forward_method(const std::string& name);

// "__torch__.torch.nn.modules.conv.___torch_mangle_3.Conv2d" -> "torch.nn.modules.conv.Conv2d"
std::string readable_type_name(const c10::ClassTypePtr& type);

}  // namespace torchprobe
