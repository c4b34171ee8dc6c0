#include "torchprobe/model/layers.h"

#include <unordered_map>

#include "torchprobe/capture/capture.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/module_paths.h"
#include "torchprobe/model/traced_identity.h"

namespace torchprobe {
namespace {

using ObjectPtr = c10::intrusive_ptr<c10::ivalue::Object>;

struct CallContext {
  bool in_branch = false;
  bool in_loop = false;
};

struct CallSites {
  int64_t count = 0;
  bool in_branch = false;
  bool in_loop = false;
};

// Walks method graphs from the root's forward, following calls into submodules' methods.
class CallSiteWalker {
 public:
  std::unordered_map<const c10::ivalue::Object*, CallSites> sites;

  void walk_method(const ObjectPtr& object, const std::string& method, CallContext context,
                   int depth) {
    if (depth > 64 || !object->type()->findMethod(method)) return;
    auto& fn = torch::jit::toGraphFunction(object->type()->getMethod(method));
    auto graph = fn.graph();
    walk_block(graph->block(), graph->inputs()[0], object, context, depth);
  }

 private:
  // The value of a condition that is a constant or a bool attribute of a module, if known.
  static std::optional<bool> known_condition(torch::jit::Value* condition, torch::jit::Value* self,
                                             const ObjectPtr& object) {
    torch::jit::Node* node = condition->node();
    if (node->kind() == c10::prim::Constant) {
      auto value = torch::jit::toIValue(condition);
      if (value && value->isBool()) return value->toBool();
    }
    if (node->kind() == c10::prim::GetAttr) {
      ObjectPtr owner = resolve_object(node->input(0), self, object);
      const std::string name = node->s(c10::attr::name);
      if (owner && owner->type()->hasAttribute(name)) {
        c10::IValue value = owner->getAttr(name);
        if (value.isBool()) return value.toBool();
      }
    }
    return std::nullopt;
  }

  void walk_block(torch::jit::Block* block, torch::jit::Value* self, const ObjectPtr& object,
                  CallContext context, int depth) {
    for (torch::jit::Node* node : block->nodes()) {
      if (node->kind() == c10::prim::If) {
        auto known = known_condition(node->input(0), self, object);
        if (known) {
          walk_block(node->blocks()[*known ? 0 : 1], self, object, context, depth);
        } else {
          CallContext inner = context;
          inner.in_branch = true;
          for (auto* b : node->blocks()) walk_block(b, self, object, inner, depth);
        }
        continue;
      }
      if (node->kind() == c10::prim::Loop) {
        CallContext inner = context;
        inner.in_loop = true;
        for (auto* b : node->blocks()) walk_block(b, self, object, inner, depth);
        continue;
      }
      for (auto* b : node->blocks()) walk_block(b, self, object, context, depth);
      if (node->kind() != c10::prim::CallMethod) continue;
      ObjectPtr callee = resolve_object(node->input(0), self, object);
      if (!callee) continue;
      const std::string method = node->s(c10::attr::name);
      if (is_forward_method(method)) {
        CallSites& s = sites[callee.get()];
        s.count += 1;
        s.in_branch |= context.in_branch;
        s.in_loop |= context.in_loop;
      }
      walk_method(callee, method, context, depth + 1);
    }
  }
};

// Runs the model once on ones of `input_size` with every module captured (untruncated, so every
// call happens as in the model) and records each layer's calls and output shapes.
void observe_calls(Model& model, const std::vector<int64_t>& input_size,
                   std::vector<LayerInfo>& layers) {
  std::vector<std::string> names;
  for (const auto& layer : layers) names.push_back(layer.name);
  std::vector<int64_t> shape = {1};
  shape.insert(shape.end(), input_size.begin(), input_size.end());
  CaptureProgram program = CaptureProgram::build(
      model, names, CaptureOptions{/*truncate=*/false, /*skip_non_tensor=*/true});
  Captures captures;
  try {
    captures = program.run(at::ones(shape, at::kFloat));
  } catch (const ForwardError& e) {
    throw ForwardError(e.what(), "give another {input_size} CxHxW (channels, height, width)");
  }
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < layers.size(); ++i) index[layers[i].name] = i;
  for (auto& layer : layers) layer.calls = 0;
  for (const auto& capture : captures.captures) {
    // Names: LAYER, LAYER#i, LAYER[j], LAYER#i[j].
    std::string name = capture.name;
    int64_t call = 0;
    auto bracket = name.find('[');
    std::string base = name.substr(0, bracket);
    auto hash = base.find('#');
    if (hash != std::string::npos) {
      call = std::stoll(base.substr(hash + 1));
      base.resize(hash);
    }
    LayerInfo& layer = layers[index.at(base)];
    if (int64_t(layer.output_shapes.size()) <= call)
      layer.output_shapes.resize(std::size_t(call) + 1);
    layer.output_shapes[std::size_t(call)].push_back(capture.value.sizes().vec());
    layer.calls = int64_t(layer.output_shapes.size());
  }
}

}  // namespace

std::vector<LayerInfo> list_layers(Model& model,
                                   const std::optional<std::vector<int64_t>>& input_size) {
  CallSiteWalker walker;
  walker.walk_method(model.module()._ivalue(), "forward", {}, 0);
  std::unordered_map<std::string, TracedIdentity> identities;
  for (auto& identity : traced_identities(model)) identities[identity.layer] = identity;

  std::vector<LayerInfo> layers;
  for (const auto& entry : model.modules()) {
    LayerInfo info{entry.name, entry.type, entry.qualified_type};
    auto found = walker.sites.find(entry.module._ivalue().get());
    if (found != walker.sites.end()) {
      info.call_sites = found->second.count;
      info.in_branch = found->second.in_branch;
      info.in_loop = found->second.in_loop;
    }
    auto identity = identities.find(entry.name);
    if (identity != identities.end()) {
      info.traced_identity = true;
      info.passes_on = identity->second.passes_on;
    }
    layers.push_back(std::move(info));
  }
  if (input_size) observe_calls(model, *input_size, layers);
  return layers;
}

}  // namespace torchprobe
