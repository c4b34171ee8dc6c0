// The graph rewrite that turns a model's forward into a capture program. All of it is here.
//
// Why a rewrite and not hooks: a loaded TorchScript module has no C++ forward-hook API, hooks
// added to a loaded submodule's type never fire, and calling submodules one by one skips the
// functional code in the parents' forward (GoogLeNet's transform_input, DenseNet's torch.cat,
// ResNet's `out += identity`). So we edit a copy of the forward graph instead:
//
//  1. Every prim::CallMethod names its module by a chain of prim::GetAttr from `self`; replaying
//  the
//     chain on the live object gives the callee, matched to the requested modules by identity.
//  2. A call of a requested module's forward gets `aten::clone` of its output inserted right after
//     it (or of its input right before it, for NAME:in), appended to a per-slot Tensor[] list made
//     at the top of the graph. The clone runs at "hook time": no later in-place op
//     (F.relu(x, inplace=True), out += identity) can reach it. Appending to a list gives the
//     right answer for a module called 0 times (untaken branch), once, or in a loop, in call order.
//  3. A call of a module that contains a requested module (or of any method of the root) is
//     inlined from its *unoptimized* graph, so the calls inside it become visible; repeat 1-3.
//  4. The graph returns the tuple of lists; every remaining call is inlined. When truncating, the
//     top-level nodes after the last one that appends a capture go first: nothing they do can
//     reach a capture, which is a clone by then (their side effects, such as a module attribute
//     update, are not run either), and inlining them would expand every remaining call
//     (GoogLeNet at conv1: 50 ms) only for dead-code elimination to remove it.
//  5. Truncation: immutable scalar attributes (training, transform_input, ...) are replaced by
//     their live values, branches that only raise are dropped (input checks such as BatchNorm's
//     _check_input_dim would otherwise keep the whole network alive), constants are propagated
//     and dead code is removed with alias analysis, so in-place ops on live tensors survive.
//     What is left is only the work the captures depend on.
//  6. A clone is only needed when a later op may write to the captured tensor. Alias analysis of
//     the final, fully inlined graph tells: a capture in the graph's top-level block (not in an
//     if or a loop, whose next pass could write to it) that no later node writes to through any
//     alias keeps the tensor itself instead of a copy. GoogLeNet's conv1 map is 3.2 MB per image;
//     its clone was a copy the readout never needed. A capture followed by F.relu(x, inplace=True)
//     or `out += identity` keeps its clone.
#include "torchprobe/capture/capture.h"

#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/remove_exceptions.h>
#include <torch/csrc/jit/runtime/interpreter.h>

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "torchprobe/capture/control_flow.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/module_paths.h"
#include "torchprobe/model/traced_identity.h"
#include "torchprobe/numbers.h"

namespace torchprobe {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;
using ObjectPtr = c10::intrusive_ptr<c10::ivalue::Object>;

const c10::Symbol kSeen = c10::Symbol::attr("torchprobe_seen");
// Analysis views only: which layer a clone captures, and which module's code a node came from.
const c10::Symbol kProbeLayer = c10::Symbol::attr("torchprobe_layer");
const c10::Symbol kProbeInput = c10::Symbol::attr("torchprobe_input");
const c10::Symbol kOwner = c10::Symbol::attr("torchprobe_owner");
// Every clone that stores a capture (step 2), so that step 6 finds them after inlining.
const c10::Symbol kCaptureClone = c10::Symbol::attr("torchprobe_capture_clone");
// Every append of a capture to its list (step 2), so that step 4 finds the last one.
const c10::Symbol kCaptureAppend = c10::Symbol::attr("torchprobe_capture_append");

// Step 6: drops the capture clones no later node can write through (see the top of the file).
void drop_needless_clones(const std::shared_ptr<Graph>& graph) {
  torch::jit::AliasDb alias_db(graph);
  std::vector<Node*> needless;
  for (Node* node : graph->block()->nodes()) {
    if (node->kind() != c10::aten::clone || !node->hasAttribute(kCaptureClone)) continue;
    Value* captured = node->input(0);
    bool written_later = false;
    for (Node* later = node->next(); later != graph->block()->return_node();
         later = later->next()) {
      if (alias_db.writesToAlias(later, {captured})) {
        written_later = true;
        break;
      }
    }
    if (!written_later) needless.push_back(node);
  }
  // NOTE: decided on the graph with every clone in place, so dropping one cannot change another
  // decision: no node that writes is added or moved.
  for (Node* clone : needless) {
    clone->output()->replaceAllUsesWith(clone->input(0));
    clone->destroy();
  }
}

void tag_owner(Block* block, const std::string& owner) {
  for (Node* node : block->nodes()) {
    if (!node->hasAttribute(kOwner)) node->s_(kOwner, owner);
    for (Block* inner : node->blocks()) tag_owner(inner, owner);
  }
}

void collect_nodes(Block* block, c10::Symbol kind, std::vector<Node*>& out) {
  for (Node* node : block->nodes()) {
    if (node->kind() == kind) out.push_back(node);
    for (Block* inner : node->blocks()) collect_nodes(inner, kind, out);
  }
}

// Whether a node's blocks hold an append of a capture.
bool holds_capture_append(Node* node) {
  for (Block* inner : node->blocks()) {
    for (Node* n : inner->nodes()) {
      if (n->hasAttribute(kCaptureAppend) || holds_capture_append(n)) return true;
    }
  }
  return false;
}

std::size_t count_in_block(Block* block, c10::Symbol kind) {
  std::size_t n = 0;
  for (Node* node : block->nodes()) {
    n += node->kind() == kind;
    for (Block* inner : node->blocks()) n += count_in_block(inner, kind);
  }
  return n;
}

// One requested module and the lists its captures are appended to.
struct Target {
  std::string layer;
  bool want_output = false;
  bool want_input = false;
  std::map<int64_t, Value*> output_lists;  // tuple element (-1: the whole output) -> Tensor[]
  Value* input_list = nullptr;
  bool outputs_known = false;
  int64_t calls = 0;         // call sites of its forward in the rewritten graph
  bool calls_static = true;  // none of them inside an if or a loop: each runs once per forward
};

// Whether `node` sits in a block of another node (an if, a loop): it may run 0 or many times.
bool in_control_flow(Node* node) { return node->owningBlock()->owningNode() != nullptr; }

// "layer1.0.relu#0, layer1.0.relu#1", with "..." between the first two and the last of many.
std::string call_names(const CaptureRequest& request, int64_t calls) {
  auto name = [&](int64_t i) {
    return request.layer + "#" + std::to_string(i) + (request.input ? ":in" : "");
  };
  std::string names;
  for (int64_t i = 0; i < calls; ++i) {
    if (calls > 4 && i == 2) {
      names += ", ...";
      i = calls - 1;
    }
    names += (names.empty() ? "" : ", ") + name(i);
  }
  return names;
}

// A call index beyond the calls a module makes in every forward.
UnknownLayerError call_index_error(const CaptureRequest& request, int64_t calls,
                                   const std::string& model_path) {
  std::string every = request.layer + (request.input ? ":in" : "");
  std::string names = call_names(request, calls);
  return UnknownLayerError(
      "unknown layer '" + request.to_string() + "' in model '" + model_path + "': " +
          request.layer + " is called " + (calls == 1 ? "once" : std::to_string(calls) + " times") +
          " in the forward (" + names + "), outside any if or loop",
      "name " + (calls == 1 ? names : "one of " + names) + ", or " + every +
          " for every call; run 'torchprobe layers " + model_path + "' to list layer names");
}

// "the output of 'features.2.1.block'", "the input of 'stem'" for a capture name.
std::string describe_capture(const std::string& name) {
  const std::string in = ":in";
  if (name.size() > in.size() && name.compare(name.size() - in.size(), in.size(), in) == 0) {
    return "the input of '" + name.substr(0, name.size() - in.size()) + "'";
  }
  return "the output of '" + name + "'";
}

// Why the output of a call of `layer` holds no tensor. NOTE: a forward called with no argument
// that returns None is a module the tracer saw return its input (traced_identity.h).
CaptureError not_capturable_error(const Model& model, const std::string& layer, Node* call) {
  std::string message = "cannot capture layer '" + layer + "': ";
  const c10::TypePtr& type = call->output()->type();
  if (call->inputs().size() > 1 || type->kind() != c10::TypeKind::NoneType) {
    return CaptureError(
        ExitCode::kLayerNotCapturable,
        message + "its output is " + type->repr_str() + ", not a tensor or tuple of tensors");
  }
  std::string passes_on;
  for (const auto& identity : traced_identities(model)) {
    if (identity.layer == layer) passes_on = identity.passes_on;
  }
  message +=
      "the tracer recorded no data flow through it (it returned its input unchanged when traced, "
      "e.g. an identity in eval mode), so the graph holds no output of its own";
  std::string hint = "export the model with torch.jit.script to capture the module itself";
  if (!passes_on.empty()) {
    message += "; it passes on " + describe_capture(passes_on);
    hint = "capture '" + passes_on + "' instead (the same values), or " + hint;
  }
  return CaptureError(ExitCode::kLayerNotCapturable, message, hint);
}

class Rewriter {
 public:
  Rewriter(Graph& graph, const Model& model, bool skip_non_tensor)
      : graph_(graph),
        model_(model),
        root_(model.module()._ivalue()),
        skip_non_tensor_(skip_non_tensor) {
    self_ = graph.inputs()[0];
  }

  // Analysis views: remember which module's code each node comes from (tag on inlining).
  void track_owners(const std::unordered_map<const c10::ivalue::Object*, std::string>& names) {
    owner_names_ = &names;
    tag_owner(graph_.block(), "");
  }

  void add_target(const ModuleEntry& entry, bool input) {
    auto* object = entry.module._ivalue().get();
    auto [it, inserted] = target_of_.emplace(object, targets_.size());
    if (inserted) targets_.push_back(Target{entry.name});
    Target& target = targets_[it->second];
    (input ? target.want_input : target.want_output) = true;
  }

  // Steps 1-3: capture every requested call and inline everything above one, until nothing
  // changes. Returns the slots in the order their lists are returned.
  void capture_calls() {
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<Node*> calls;
      collect_nodes(graph_.block(), c10::prim::CallMethod, calls);
      for (Node* call : calls) {
        ObjectPtr callee = resolve_object(call->input(0), self_, root_);
        if (!callee) continue;
        const std::string method = call->s(c10::attr::name);
        auto found = target_of_.find(callee.get());
        bool is_target_call = found != target_of_.end() && is_forward_method(method);
        if (is_target_call && !call->hasAttribute(kSeen)) {
          Target& target = targets_[found->second];
          // NOTE: counted as found: its callers are inlined by now, so its place is final.
          target.calls += 1;
          target.calls_static &= !in_control_flow(call);
          insert_clones(call, target);
          call->i_(kSeen, 1);
        }
        bool needs_inside = is_target_call ? contains_target(callee, /*strict=*/true)
                                           : contains_target(callee, /*strict=*/false);
        if (needs_inside) {
          auto& fn = torch::jit::toGraphFunction(
              call->input(0)->type()->expectRef<c10::ClassType>().getMethod(method));
          // NOTE: the third argument makes inlineCallTo use the callee's own graph; without it
          // the already-inlined optimized graph is used and the calls we look for vanish.
          torch::jit::inlineCallTo(call, &fn, fn.graph().get());
          if (owner_names_) {
            auto name = owner_names_->find(callee.get());
            tag_owner(graph_.block(), name == owner_names_->end() ? "" : name->second);
          }
          changed = true;
        }
      }
    }
  }

  // Throws UnknownLayerError when `request` names a call beyond those its module makes, where
  // that number is known before the forward runs: each call site outside any if or loop runs
  // exactly once. Otherwise a missing call is reported when it happens (not_called).
  void check_call_index(const CaptureRequest& request) const {
    if (!request.call) return;
    for (const auto& target : targets_) {
      if (target.layer == request.layer && target.calls_static && target.calls > 0 &&
          *request.call >= target.calls) {
        throw call_index_error(request, target.calls, model_.path());
      }
    }
  }

  // Step 4: return the lists (and, untruncated, the original output so the whole forward runs).
  std::vector<CaptureProgram::Slot> return_lists(bool keep_original_output) {
    std::vector<CaptureProgram::Slot> slots;
    std::vector<Value*> lists;
    for (auto& target : targets_) {
      if (target.want_input) {
        slots.push_back({target.layer, -1, true});
        lists.push_back(list_for(target.input_list));
      }
      if (target.want_output) {
        if (target.output_lists.empty()) list_for(target.output_lists[-1]);
        for (auto& [element, list] : target.output_lists) {
          slots.push_back({target.layer, element, false});
          lists.push_back(list);
        }
      }
    }
    Value* original = graph_.outputs()[0];
    torch::jit::WithInsertPoint guard(graph_.block()->return_node());
    if (keep_original_output) lists.push_back(original);
    Value* tuple = graph_.insertNode(graph_.createTuple(lists))->output();
    while (!graph_.outputs().empty()) graph_.eraseOutput(0);
    graph_.registerOutput(tuple);
    return slots;
  }

  // Analysis views: inline free functions (F.relu(x, inplace=True) is a prim::CallFunction whose
  // body holds the aten::relu_), keeping module calls as they are.
  void inline_functions() {
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<Node*> calls;
      collect_nodes(graph_.block(), c10::prim::CallFunction, calls);
      for (Node* call : calls) {
        auto function_type = call->input(0)->type()->cast<c10::FunctionType>();
        if (!function_type) continue;
        std::string owner = call->hasAttribute(kOwner) ? call->s(kOwner) : "";
        auto& fn = torch::jit::toGraphFunction(*function_type->function());
        call->removeInput(0);  // the function constant: the callee's inputs are the rest
        torch::jit::inlineCallTo(call, &fn, fn.graph().get());
        if (owner_names_) tag_owner(graph_.block(), owner);
        changed = true;
      }
    }
  }

  // Step 5: warnings the model's forward emits (e.g. scripted GoogLeNet's "always returns
  // GoogleNetOutputs") say nothing about the captured layers; as side effects they would survive
  // dead-code elimination, so they go first.
  void drop_warnings() {
    std::vector<Node*> warnings;
    collect_nodes(graph_.block(), c10::aten::warn, warnings);
    for (Node* node : warnings) node->destroy();
  }

  // Step 4, truncating: drops the top-level nodes after the last one that appends a capture (or
  // holds one in its blocks), except the tuple of lists that return_lists() put last. Only for a
  // truncated program: its output is the lists alone.
  void drop_after_last_capture() {
    Block* top = graph_.block();
    Node* tuple = graph_.outputs()[0]->node();
    Node* last_capture = top->param_node();
    for (Node* node : top->nodes()) {
      if (node->hasAttribute(kCaptureAppend) || holds_capture_append(node)) last_capture = node;
    }
    // Backwards from the tuple: uses come after definitions and every later node is gone by
    // then, so only the tuple could still use an output here; it holds the lists, made at the top.
    for (Node* node = tuple->prev(); node != last_capture;) {
      Node* before = node->prev();
      if (node->hasUses()) return;
      node->destroy();
      node = before;
    }
  }

  // Step 5, first half: scalar module attributes that no prim::SetAttr writes become constants.
  void fold_module_attributes() {
    std::vector<Node*> setters, getters;
    collect_nodes(graph_.block(), c10::prim::SetAttr, setters);
    std::unordered_set<std::string> written;
    for (Node* node : setters) written.insert(node->s(c10::attr::name));
    collect_nodes(graph_.block(), c10::prim::GetAttr, getters);
    for (Node* node : getters) {
      const std::string name = node->s(c10::attr::name);
      if (written.count(name) || node->output()->type()->cast<c10::ClassType>()) continue;
      ObjectPtr owner = resolve_object(node->input(0), self_, root_);
      if (!owner || !owner->type()->hasAttribute(name)) continue;
      c10::IValue value = owner->getAttr(name);
      if (!is_foldable(value)) continue;
      torch::jit::WithInsertPoint guard(node);
      auto constant = torch::jit::tryInsertConstant(graph_, value);
      if (!constant) continue;
      node->output()->replaceAllUsesWith(*constant);
      node->destroy();
    }
  }

 private:
  static bool is_foldable(const c10::IValue& value) {
    if (value.isBool() || value.isInt() || value.isDouble() || value.isString() || value.isNone()) {
      return true;
    }
    if (value.isTuple()) {
      for (const auto& element : value.toTupleRef().elements()) {
        if (!is_foldable(element)) return false;
      }
      return true;
    }
    return false;
  }

  Value* list_for(Value*& slot) {
    if (!slot) {
      torch::jit::WithInsertPoint guard(graph_.block()->nodes().front());
      slot = graph_.insertNode(graph_.createList(c10::TensorType::get(), {}))->output();
    }
    return slot;
  }

  void append_clone(Value* tensor, Value* list, const std::string& layer, bool input) {
    Value* copy = graph_.insert(c10::aten::clone, {tensor});
    copy->node()->i_(kCaptureClone, 1);
    Node* append = graph_.insert(c10::aten::append, {list, copy})->node();
    append->i_(kCaptureAppend, 1);
    if (owner_names_) {
      copy->node()->s_(kProbeLayer, layer)->i_(kProbeInput, input ? 1 : 0)->s_(kOwner, "");
      append->s_(kOwner, "");
    }
  }

  void insert_clones(Node* call, Target& target) {
    if (target.want_input && call->inputs().size() > 1 &&
        call->input(1)->type()->cast<c10::TensorType>()) {
      Value* list = list_for(target.input_list);
      torch::jit::WithInsertPoint guard(call);
      append_clone(call->input(1), list, target.layer, true);
    }
    if (!target.want_output) return;
    Value* output = call->output();
    std::vector<std::pair<int64_t, c10::TypePtr>> elements;
    if (output->type()->cast<c10::TensorType>()) {
      elements.emplace_back(-1, output->type());
    } else if (auto tuple = output->type()->cast<c10::TupleType>()) {
      for (std::size_t i = 0; i < tuple->elements().size(); ++i) {
        if (tuple->elements()[i]->cast<c10::TensorType>())
          elements.emplace_back(int64_t(i), nullptr);
      }
    }
    if (elements.empty()) {
      if (skip_non_tensor_) return;
      throw not_capturable_error(model_, target.layer, call);
    }
    // Lists are created for the element set of the first call seen; later calls use the same.
    if (!target.outputs_known) {
      for (const auto& [element, type] : elements) list_for(target.output_lists[element]);
      target.outputs_known = true;
    }
    torch::jit::WithInsertPoint guard(call->next());
    if (elements.size() == 1 && elements[0].first == -1) {
      append_clone(output, list_for(target.output_lists[-1]), target.layer, false);
      return;
    }
    Node* unpack = graph_.insertNode(graph_.createTupleUnpack(output));
    for (const auto& [element, type] : elements) {
      auto it = target.output_lists.find(element);
      if (it != target.output_lists.end()) {
        append_clone(unpack->output(element), it->second, target.layer, false);
      }
    }
  }

  // Whether `object` is (strict: strictly contains) a requested module.
  bool contains_target(const ObjectPtr& object, bool strict) {
    if (!strict && target_of_.count(object.get())) return true;
    auto memo = contains_memo_.find(object.get());
    if (memo != contains_memo_.end()) return memo->second;
    bool found = false;
    const auto& type = object->type();
    for (std::size_t i = 0; i < type->numAttributes() && !found; ++i) {
      if (!type->getAttribute(i)->is_module()) continue;
      c10::IValue child = object->getSlot(i);
      if (child.isObject()) found = contains_target(child.toObject(), /*strict=*/false);
    }
    contains_memo_[object.get()] = found;
    return found;
  }

  Graph& graph_;
  const Model& model_;
  ObjectPtr root_;
  bool skip_non_tensor_;
  const std::unordered_map<const c10::ivalue::Object*, std::string>* owner_names_ = nullptr;
  Value* self_;
  std::vector<Target> targets_;
  std::unordered_map<const c10::ivalue::Object*, std::size_t> target_of_;
  std::unordered_map<const c10::ivalue::Object*, bool> contains_memo_;
};

}  // namespace

CaptureRequest CaptureRequest::parse(const std::string& text) {
  CaptureRequest request;
  std::string rest = text;
  const std::string in_suffix = ":in";
  if (rest.size() > in_suffix.size() &&
      rest.compare(rest.size() - in_suffix.size(), in_suffix.size(), in_suffix) == 0) {
    request.input = true;
    rest.resize(rest.size() - in_suffix.size());
  }
  auto hash = rest.find('#');
  if (hash != std::string::npos) {
    request.call = parse_digits(rest.substr(hash + 1), 8);
    if (!request.call) {
      throw UsageError("bad layer '" + text + "': after '#' comes the call index, e.g. NAME#1");
    }
    rest.resize(hash);
  }
  if (rest.empty()) throw UsageError("bad layer '" + text + "': the layer name is empty");
  request.layer = rest;
  return request;
}

std::string CaptureRequest::to_string() const {
  return layer + (call ? "#" + std::to_string(*call) : "") + (input ? ":in" : "");
}

CaptureProgram CaptureProgram::build(const Model& model, const std::vector<std::string>& requests,
                                     const CaptureOptions& options) {
  CaptureProgram program;
  program.module_ = model.module();
  program.truncated_ = options.truncate;
  torch::jit::Method forward = model.module().get_method("forward");
  auto& forward_fn = torch::jit::toGraphFunction(forward.function());
  auto graph = forward_fn.graph()->copy();

  Rewriter rewriter(*graph, model, options.skip_non_tensor);
  for (const auto& text : requests) {
    CaptureRequest request = CaptureRequest::parse(text);
    rewriter.add_target(model.find(request.layer), request.input);
    program.requests_.push_back(request);
  }
  rewriter.capture_calls();
  for (const auto& request : program.requests_) rewriter.check_call_index(request);
  program.slots_ = rewriter.return_lists(/*keep_original_output=*/!options.truncate);
  if (options.truncate) rewriter.drop_after_last_capture();
  torch::jit::Inline(*graph);
  if (options.truncate) {
    rewriter.drop_warnings();
    rewriter.fold_module_attributes();
    torch::jit::EliminateExceptions(graph);
    torch::jit::ConstantPropagation(graph);
    torch::jit::EliminateDeadCode(graph);
  }
  drop_needless_clones(graph);

  const auto& schema = forward_fn.getSchema();
  for (std::size_t i = 2; i < schema.arguments().size(); ++i) {
    const auto& argument = schema.arguments()[i];
    if (!argument.default_value()) {
      throw CaptureError(ExitCode::kForward, "cannot probe model '" + model.path() +
                                                 "': its forward takes more than "
                                                 "one input (argument '" +
                                                 argument.name() + "' has no default)");
    }
    program.default_arguments_.push_back(*argument.default_value());
  }
  program.graph_ = graph;
  program.code_ = std::make_shared<torch::jit::Code>(graph, "torchprobe_capture");
  program.model_path_ = model.path();
  program.expected_input_ = describe_expected_input(model);
  program.value_dependent_branch_ = value_dependent_control_flow(*graph);
  return program;
}

void require_layers(const std::vector<std::string>& layers, const std::string& model_path) {
  if (layers.empty()) {
    throw UsageError("no layer given: name at least one with {layers} NAME",
                     "run 'torchprobe layers " + model_path + "' to list layer names");
  }
}

std::string capture_name(const CaptureProgram::Slot& slot, std::size_t call, bool numbered) {
  std::string name = slot.layer;
  if (numbered) name += "#" + std::to_string(call);
  if (slot.element >= 0) name += "[" + std::to_string(slot.element) + "]";
  if (slot.input) name += ":in";
  return name;
}

std::vector<std::vector<at::Tensor>> CaptureProgram::run_lists(const at::Tensor& input) const {
  torch::jit::Stack stack{module_._ivalue(), input};
  stack.insert(stack.end(), default_arguments_.begin(), default_arguments_.end());
  {
    c10::InferenceMode inference;
    try {
      torch::jit::InterpreterState(*code_).run(stack);
    } catch (const std::exception& e) {
      // NOTE: an op failing inside the TorchScript interpreter arrives as std::runtime_error
      // (message: the TorchScript traceback, then "RuntimeError: ..."), not as c10::Error.
      throw forward_error(model_path_, expected_input_, input, e,
                          "give an input size the model takes ({size} HxW, or @HxW after a "
                          "stimulus); 'torchprobe layers " +
                              model_path_ + " {input_size} CxHxW' tries one");
    }
  }
  // NOTE: an untruncated program returns the model's own output after the slots' lists.
  const auto& outputs = stack.back().toTupleRef().elements();
  std::vector<std::vector<at::Tensor>> lists;
  for (std::size_t s = 0; s < slots_.size(); ++s) lists.push_back(outputs[s].toTensorVector());
  return lists;
}

CaptureProgram::Selection CaptureProgram::select(
    const std::vector<std::size_t>& calls_per_slot) const {
  Selection selection;
  std::unordered_set<std::string> named;
  for (const auto& request : requests_) {
    bool any = false;
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      const Slot& slot = slots_[s];
      if (slot.layer != request.layer || slot.input != request.input) continue;
      const std::size_t calls = calls_per_slot.at(s);
      for (std::size_t i = 0; i < calls; ++i) {
        if (request.call && int64_t(i) != *request.call) continue;
        std::string name = capture_name(slot, i, calls > 1 || request.call.has_value());
        any = true;
        if (named.insert(name).second) selection.keys.push_back({name, s, i});
      }
    }
    if (!any) selection.not_called.push_back(request.to_string());
  }
  return selection;
}

Captures CaptureProgram::run(const at::Tensor& input) const {
  std::vector<std::vector<at::Tensor>> lists = run_lists(input);
  std::vector<std::size_t> calls_per_slot;
  for (const auto& list : lists) calls_per_slot.push_back(list.size());
  Selection selection = select(calls_per_slot);
  Captures result;
  for (const auto& key : selection.keys)
    result.captures.push_back({key.name, lists[key.slot][key.call]});
  result.not_called = std::move(selection.not_called);
  return result;
}

AnalysisView build_analysis_view(const Model& model, const std::vector<std::string>& layers) {
  AnalysisView view;
  auto& forward_fn = torch::jit::toGraphFunction(model.module().get_method("forward").function());
  view.graph = forward_fn.graph()->copy();
  Rewriter rewriter(*view.graph, model, /*skip_non_tensor=*/true);
  std::unordered_map<const c10::ivalue::Object*, std::string> names;
  for (const auto& entry : model.modules()) names.emplace(entry.module._ivalue().get(), entry.name);
  rewriter.track_owners(names);
  for (const auto& layer : layers) {
    const ModuleEntry& entry = model.find(layer);
    rewriter.add_target(entry, /*input=*/false);
    rewriter.add_target(entry, /*input=*/true);
  }
  rewriter.capture_calls();
  rewriter.inline_functions();
  std::vector<Node*> clones;
  collect_nodes(view.graph->block(), c10::aten::clone, clones);
  for (Node* clone : clones) {
    if (!clone->hasAttribute(kProbeLayer)) continue;
    view.points.push_back(
        {clone->s(kProbeLayer), clone->i(kProbeInput) != 0, clone->input(0), clone});
  }
  return view;
}

std::string AnalysisView::owner(torch::jit::Node* node) const {
  return node->hasAttribute(kOwner) ? node->s(kOwner) : "";
}

bool AnalysisView::is_probe_node(torch::jit::Node* node) {
  if (node->hasAttribute(kProbeLayer)) return true;
  // the aten::append that stores a probe clone
  return node->kind() == c10::aten::append && node->inputs().size() == 2 &&
         node->input(1)->node()->hasAttribute(kProbeLayer);
}

std::size_t CaptureProgram::count_nodes(const std::string& kind) const {
  return count_in_block(graph_->block(), c10::Symbol::fromQualString(kind));
}

}  // namespace torchprobe
