#include "torchprobe/tools/explain.h"

#include <torch/csrc/jit/passes/inliner.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "torchprobe/capture/capture.h"
#include "torchprobe/capture/source_line.h"
#include "torchprobe/model/layers.h"
#include "torchprobe/model/module_paths.h"

namespace torchprobe {
namespace {

using torch::jit::Node;
using torch::jit::Value;

// The node's line of saved code (source_line.h), shortened to fit a table row.
std::string source_of(Node* node) {
  std::string text = source_line(node);
  const std::size_t code = text.find(": ");
  if (code != std::string::npos && text.size() - code - 2 > 100) {
    text = text.substr(0, code + 2 + 97) + "...";
  }
  return text;
}

bool produces_tensor(Node* node) {
  for (Value* output : node->outputs()) {
    if (output->type()->cast<c10::TensorType>()) return true;
  }
  return false;
}

// Whether argument `index` of `node` is written to (an in-place op such as aten::relu_).
bool writes_argument(Node* node, std::size_t index) {
  const c10::FunctionSchema* schema = node->maybeSchema();
  if (!schema || index >= schema->arguments().size()) return false;
  const auto* alias = schema->arguments()[index].alias_info();
  return alias && alias->isWrite();
}

// Whether the output of `node` may be a view of its argument `index` (aten::view, select, ...).
bool output_aliases_argument(Node* node, std::size_t index) {
  const c10::FunctionSchema* schema = node->maybeSchema();
  if (!schema || index >= schema->arguments().size() || schema->returns().empty()) return false;
  const auto* in = schema->arguments()[index].alias_info();
  const auto* out = schema->returns()[0].alias_info();
  if (!in || !out) return false;
  for (const auto& set : in->beforeSets()) {
    if (out->beforeSets().count(set)) return true;
  }
  return false;
}

// The in-place writes a module call makes to its argument `index` (checked in the callee's
// fully inlined graph), e.g. nn.ReLU(inplace=True) writing its input.
std::vector<GraphOp> module_writes(Node* call, std::size_t index, const std::string& module) {
  auto& fn = torch::jit::toGraphFunction(
      call->input(0)->type()->expectRef<c10::ClassType>().getMethod(call->s(c10::attr::name)));
  auto graph = fn.graph()->copy();
  torch::jit::Inline(*graph);
  std::vector<GraphOp> writers;
  if (index >= graph->inputs().size()) return writers;
  std::vector<Value*> aliases{graph->inputs()[index]};
  std::unordered_set<Value*> seen(aliases.begin(), aliases.end());
  while (!aliases.empty()) {
    Value* value = aliases.back();
    aliases.pop_back();
    for (const auto& use : value->uses()) {
      if (writes_argument(use.user, use.offset)) {
        writers.push_back({use.user->kind().toQualString(), module, source_of(use.user)});
      }
      if (writes_argument(use.user, use.offset) || output_aliases_argument(use.user, use.offset)) {
        for (Value* out : use.user->outputs()) {
          if (seen.insert(out).second) aliases.push_back(out);
        }
      }
    }
  }
  return writers;
}

std::string module_name_of_call(Node* call, const Model& model, Value* self) {
  auto object = resolve_object(call->input(0), self, model.module()._ivalue());
  if (!object) return "?";
  for (const auto& entry : model.modules()) {
    if (entry.module._ivalue().get() == object.get()) return entry.name;
  }
  return "?";
}

bool is_inside(const std::string& name, const std::string& layer) {
  return name == layer || name.rfind(layer + ".", 0) == 0;
}

// Every node of `block`, nested blocks included, in graph order.
void nodes_in_order(torch::jit::Block* block, std::vector<Node*>& out) {
  for (Node* node : block->nodes()) {
    out.push_back(node);
    for (torch::jit::Block* inner : node->blocks()) nodes_in_order(inner, out);
  }
}

// The values whose data flows into `value`: its node's inputs and, for prim::If and prim::Loop,
// what their blocks return. A loop body's parameter comes from the loop's initial value and from
// the body's previous iteration. NOTE: conditions (an `if`'s, a loop's trip count and continue
// flag) decide which code runs but add no numbers, so they are left out: otherwise every layer
// after `if x.sum() > 0:` would list the sum.
void sources_of(Value* value, std::vector<Value*>& out) {
  Node* node = value->node();
  if (node->kind() == c10::prim::Param) {
    Node* loop = node->owningBlock()->owningNode();
    std::size_t i = value->offset();  // body parameter 0 is the iteration counter
    if (!loop || loop->kind() != c10::prim::Loop || i == 0) return;
    out.push_back(loop->input(i + 1));  // inputs: trip count, condition, initial values
    out.push_back(node->owningBlock()->outputs()[i]);  // outputs: condition, next values
    return;
  }
  bool loop = node->kind() == c10::prim::Loop;
  std::size_t skip = loop ? 2 : node->kind() == c10::prim::If ? 1 : 0;
  for (std::size_t i = skip; i < node->inputs().size(); ++i) out.push_back(node->input(i));
  for (torch::jit::Block* block : node->blocks()) {
    for (std::size_t i = loop ? 1 : 0; i < block->outputs().size(); ++i)
      out.push_back(block->outputs()[i]);
  }
}

// The nodes `value` is computed from, not looking past `stops`.
std::unordered_set<Node*> backward_slice(Value* value, const std::unordered_set<Value*>& stops) {
  std::unordered_set<Node*> slice;
  std::vector<Value*> work{value};
  std::unordered_set<Value*> seen{value};
  while (!work.empty()) {
    Value* v = work.back();
    work.pop_back();
    if (stops.count(v)) continue;
    if (v->node()->kind() != c10::prim::Param) slice.insert(v->node());
    std::vector<Value*> sources;
    sources_of(v, sources);
    for (Value* in : sources) {
      if (seen.insert(in).second) work.push_back(in);
    }
  }
  return slice;
}

// The values submodule calls return: prim::CallMethod of a module's forward, and the outputs of
// the calls the view captures (inlined).
std::unordered_set<Value*> call_outputs(const AnalysisView& view) {
  std::unordered_set<Value*> outputs;
  for (const auto& point : view.points) {
    if (!point.input) outputs.insert(point.value);
  }
  std::vector<Node*> nodes;
  nodes_in_order(view.graph->block(), nodes);
  for (Node* node : nodes) {
    if (node->kind() != c10::prim::CallMethod || !is_forward_method(node->s(c10::attr::name)))
      continue;
    auto type = node->input(0)->type()->cast<c10::ClassType>();
    if (!type || !type->is_module()) continue;
    for (Value* out : node->outputs()) outputs.insert(out);
  }
  return outputs;
}

// Item 1: tensor ops in the backward slice of the layer's first-call input, outside the layer's
// own code and outside other submodules' calls; `direct` for those after the previous submodule
// call (the slice stopped at `calls`, values that submodule calls return).
std::vector<GraphOp> functional_before(const AnalysisView& view, const std::string& layer,
                                       const std::unordered_set<Value*>& calls) {
  const AnalysisView::Point* input = nullptr;
  for (const auto& point : view.points) {
    if (point.layer == layer && point.input) {
      input = &point;
      break;
    }
  }
  std::vector<GraphOp> ops;
  if (!input) return ops;
  std::unordered_set<Node*> in_slice = backward_slice(input->value, {});
  std::unordered_set<Node*> direct = backward_slice(input->value, calls);
  std::vector<Node*> nodes;
  nodes_in_order(view.graph->block(), nodes);
  for (Node* node : nodes) {
    if (!in_slice.count(node) || AnalysisView::is_probe_node(node)) continue;
    if (node->kind() == c10::prim::CallMethod || !produces_tensor(node)) continue;
    if (!node->kind().is_aten()) continue;
    std::string owner = view.owner(node);
    if (!owner.empty() && is_inside(owner, layer)) continue;
    GraphOp op{node->kind().toQualString(), owner, source_of(node)};
    op.direct = direct.count(node) > 0;
    ops.push_back(op);
  }
  return ops;
}

// Item 2: in-place writes to the layer's output (or views of it) after the call.
std::vector<GraphOp> inplace_after(const AnalysisView& view, const std::string& layer,
                                   const Model& model) {
  std::vector<GraphOp> ops;
  std::set<std::string> reported;
  Value* self = view.graph->inputs()[0];
  for (const auto& point : view.points) {
    if (point.layer != layer || point.input) continue;
    std::vector<Value*> aliases{point.value};
    std::unordered_set<Value*> seen{point.value};
    while (!aliases.empty()) {
      Value* value = aliases.back();
      aliases.pop_back();
      for (const auto& use : value->uses()) {
        Node* user = use.user;
        if (AnalysisView::is_probe_node(user)) continue;
        if (user->kind() == c10::prim::CallMethod) {
          std::string module = module_name_of_call(user, model, self);
          for (const GraphOp& op : module_writes(user, use.offset, module)) {
            if (reported.insert(op.kind + op.owner + op.source).second) ops.push_back(op);
          }
          continue;
        }
        bool writes = writes_argument(user, use.offset);
        if (writes) {
          GraphOp op{user->kind().toQualString(), view.owner(user), source_of(user)};
          if (reported.insert(op.kind + op.owner + op.source).second) ops.push_back(op);
        }
        if (writes || output_aliases_argument(user, use.offset)) {
          for (Value* out : user->outputs()) {
            if (seen.insert(out).second) aliases.push_back(out);
          }
        }
      }
    }
  }
  return ops;
}

bool depends_on_training(const std::string& type) {
  return type.find("BatchNorm") != std::string::npos || type.find("Dropout") != std::string::npos ||
         type.find("InstanceNorm") != std::string::npos;
}

void collect_effects(torch::jit::Block* block, std::vector<GraphOp>& out) {
  static const std::set<std::string> kEffects = {
      "prim::Print",     "aten::save",      "aten::warn",     "prim::RaiseException",
      "aten::_set_item", "prim::rpc_async", "aten::rpc_sync", "aten::rpc_remote"};
  for (Node* node : block->nodes()) {
    std::string kind = node->kind().toQualString();
    if (kEffects.count(kind) || kind.find("save") != std::string::npos) {
      out.push_back({kind, "", source_of(node)});
    }
    for (auto* inner : node->blocks()) collect_effects(inner, out);
  }
}

}  // namespace

std::vector<GraphOp> external_effects(const Model& model) {
  auto graph =
      torch::jit::toGraphFunction(model.module().get_method("forward").function()).graph()->copy();
  torch::jit::Inline(*graph);
  std::vector<GraphOp> all;
  collect_effects(graph->block(), all);
  // One entry per kind and source line, with a count: every BatchNorm has the same input check.
  std::vector<GraphOp> grouped;
  std::vector<int> counts;
  for (const auto& op : all) {
    auto it = std::find_if(grouped.begin(), grouped.end(), [&](const GraphOp& g) {
      return g.kind == op.kind && g.source == op.source;
    });
    if (it == grouped.end()) {
      grouped.push_back(op);
      counts.push_back(1);
    } else {
      counts[std::size_t(it - grouped.begin())] += 1;
    }
  }
  for (std::size_t i = 0; i < grouped.size(); ++i) grouped[i].count = counts[i];
  return grouped;
}

LayerExplanation explain_layer(Model& model, const std::string& layer) {
  const ModuleEntry& entry = model.find(layer);
  LayerExplanation e;
  e.layer = layer;
  e.type = entry.type;
  AnalysisView view = build_analysis_view(model, {layer});
  e.functional_before = functional_before(view, layer, call_outputs(view));
  e.inplace_after = inplace_after(view, layer, model);
  for (const auto& info : list_layers(model, std::nullopt)) {
    if (info.name == layer) {
      e.call_sites = info.call_sites;
      e.in_branch = info.in_branch;
      e.in_loop = info.in_loop;
    }
  }
  for (const auto& m : model.modules()) {
    if (is_inside(m.name, layer) && depends_on_training(m.type)) {
      e.training_dependent.push_back(m.name + " (" + m.type + ")");
    }
  }
  e.model_training = model.training();
  e.traced = model.kind() == "trace";
  e.external_effects = external_effects(model);
  return e;
}

std::vector<std::string> explain_markers(Model& model) {
  std::vector<std::string> names;
  for (const auto& m : model.modules()) names.push_back(m.name);
  AnalysisView view = build_analysis_view(model, names);
  auto layers = list_layers(model, std::nullopt);
  auto calls = call_outputs(view);
  std::vector<std::string> markers;
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::vector<std::string> notes;
    // NOTE: not every op of explain's item 1: in GoogLeNet every layer is downstream of
    // transform_input. Only ops after the previous submodule call, which nn.Sequential skips.
    auto before = functional_before(view, names[i], calls);
    if (std::any_of(before.begin(), before.end(), [](const GraphOp& op) { return op.direct; })) {
      notes.push_back("functional");
    }
    if (!inplace_after(view, names[i], model).empty()) notes.push_back("inplace");
    bool training = false;
    for (const auto& m : model.modules()) {
      if (is_inside(m.name, names[i]) && depends_on_training(m.type)) training = true;
    }
    if (training) notes.push_back("train");
    // NOTE: one call site inside a loop also runs (and fires a hook) more than once.
    if (layers[i].call_sites > 1 || layers[i].in_loop) notes.push_back("calls");
    if (layers[i].traced_identity) notes.push_back("identity");
    std::string marker;
    for (const auto& n : notes) marker += (marker.empty() ? "" : ",") + n;
    markers.push_back(marker);
  }
  return markers;
}

nlohmann::json LayerExplanation::to_json() const {
  auto ops = [](const std::vector<GraphOp>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& op : list)
      out.push_back({{"op", op.kind}, {"module", op.owner}, {"source", op.source}});
    return out;
  };
  nlohmann::json before = ops(functional_before);
  for (std::size_t i = 0; i < functional_before.size(); ++i)
    before[i]["direct"] = functional_before[i].direct;
  nlohmann::json effects = ops(external_effects);
  for (std::size_t i = 0; i < external_effects.size(); ++i)
    effects[i]["count"] = external_effects[i].count;
  return {{"layer", layer},
          {"type", type},
          {"functional_before", before},
          {"inplace_after", ops(inplace_after)},
          {"calls", {{"call_sites", call_sites}, {"in_branch", in_branch}, {"in_loop", in_loop}}},
          {"training_dependent", training_dependent},
          {"model_training", model_training},
          {"traced", traced},
          {"external_effects", effects}};
}

// NOTE: 64 lines: one linear report, a paragraph per section in the order it prints them.
std::string LayerExplanation::to_text(const SettingNamer& name_of) const {
  std::ostringstream out;
  out << "layer " << layer << " (" << type << ")\n";
  out << "\n1. functional code on the way from the model input (outside any submodule call):\n";
  if (functional_before.empty()) {
    out << "   none: the layer's input is built by submodule calls only\n";
  } else {
    bool any_direct = false;
    for (const auto& op : functional_before) {
      any_direct |= op.direct;
      out << "   " << (op.direct ? "* " : "  ") << op.kind << "  in "
          << (op.owner.empty() ? "the model's forward" : "'" + op.owner + "'")
          << (op.source.empty() ? "" : "  " + op.source) << "\n";
    }
    out << "   Re-assembling submodules (e.g. in nn.Sequential) skips these ops and gives other "
           "numbers; torchprobe runs them.\n";
    if (any_direct) {
      out << "   * runs after the previous submodule call, right before this layer ('functional' "
             "in "
             "'torchprobe layers').\n";
    }
  }
  out << "\n2. in-place ops that modify this layer's output after it returns:\n";
  if (inplace_after.empty()) {
    out << "   none\n";
  } else {
    for (const auto& op : inplace_after) {
      out << "   " << op.kind << "  in "
          << (op.owner.empty() ? "the model's forward" : "'" + op.owner + "'")
          << (op.source.empty() ? "" : "  " + op.source) << "\n";
    }
    out << "   A forward hook that keeps the output without .clone() sees the modified values; "
           "torchprobe clones it before these run.\n";
  }
  out << "\n3. calls per forward: " << call_sites << " call site" << (call_sites == 1 ? "" : "s");
  if (call_sites > 1)
    out << " (captures are named " << layer << "#0 ... " << layer << "#" << call_sites - 1 << ")";
  if (in_branch) out << "; a call sits inside a branch (it may not run: see not_called)";
  if (in_loop) out << "; a call sits inside a loop";
  out << "\n";
  out << "\n4. behaviour that depends on the training flag (model is in "
      << (model_training ? "training" : "eval") << " mode):\n";
  if (training_dependent.empty()) {
    out << "   none\n";
  } else {
    for (const auto& m : training_dependent) out << "   " << m << "\n";
    out << render_settings(
        "   In training mode BatchNorm uses batch statistics and Dropout is active; "
        "torchprobe probes in eval mode unless {mode} says otherwise.\n",
        name_of);
  }
  if (traced) {
    out << "\n5. traced model: branches and loops were fixed when it was traced; captures follow "
           "the traced path, which can differ from the Python code for other inputs.\n";
  }
  if (!external_effects.empty()) {
    out << "\nops with effects outside the tensor world in the model's forward:\n";
    for (const auto& op : external_effects) {
      out << "   " << op.kind << (op.count > 1 ? " x" + std::to_string(op.count) : "")
          << (op.source.empty() ? "" : "  " + op.source) << "\n";
    }
  }
  return out.str();
}

}  // namespace torchprobe
