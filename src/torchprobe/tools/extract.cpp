// Turning a capture program into a standalone TorchScript module (see extract.h).
//
// The capture program's graph (capture.cpp) takes (self: Model, x, <defaulted arguments>) and
// returns a tuple with one Tensor[] per capture slot, each list holding that slot's calls in call
// order. To make it a probe:
//  1. run it once on the example to learn each list's length, and name each list element the way
//     CaptureProgram::run names captures;
//  2. append aten::__getitem__(list, i) for every named element and a prim::DictConstruct;
//  3. give the graph a new `self` of a fresh module class (CaptureProbe) that holds the model as
//     submodule `model`: the old self becomes prim::GetAttr[name="model"](self), so the model's
//     own class types, methods and the module object are used unchanged;
//  4. defaulted arguments become constants, so the probe's forward takes only x.
#include "torchprobe/tools/extract.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/runtime/interpreter.h>

#include <cstring>
#include <map>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "torchprobe/detail/atomic_file.h"
#include "torchprobe/capture/capture.h"
#include "torchprobe/errors.h"
#include "torchprobe/stimuli/stimulus.h"
#include "torchprobe/version.h"

namespace torchprobe {
namespace {

struct Slot {
  std::string layer;
  int64_t element;  // tuple element, -1 for the whole output
  bool input;
};

// Tensor elements of a module's forward output: {-1} for a tensor, the tensor indices of a tuple.
std::vector<int64_t> output_elements(const torch::jit::Module& module) {
  torch::jit::Function* forward = module.type()->findMethod("forward");
  if (!forward) return {-1};
  const auto& returns = forward->getSchema().returns();
  if (returns.size() != 1) return {-1};
  if (auto tuple = returns[0].type()->cast<c10::TupleType>()) {
    std::vector<int64_t> elements;
    for (std::size_t i = 0; i < tuple->elements().size(); ++i) {
      if (tuple->elements()[i]->cast<c10::TensorType>()) elements.push_back(int64_t(i));
    }
    if (!elements.empty()) return elements;
  }
  return {-1};
}

// The slots of the capture program's output tuple, in order.
// NOTE: this mirrors the order in which capture.cpp's Rewriter returns its lists (targets in order
// of first request, per target the input list then the output lists by element). It is not
// trusted: build_extractor checks the resulting names and values against CaptureProgram::run.
std::vector<Slot> capture_slots(const Model& model, const std::vector<CaptureRequest>& requests) {
  struct Target {
    std::string layer;
    torch::jit::Module module;
    bool input = false;
    bool output = false;
  };
  std::vector<Target> targets;
  std::unordered_map<const void*, std::size_t> index;
  for (const auto& request : requests) {
    const ModuleEntry& entry = model.find(request.layer);
    auto [it, inserted] = index.emplace(entry.module._ivalue().get(), targets.size());
    if (inserted) targets.push_back({entry.name, entry.module});
    (request.input ? targets[it->second].input : targets[it->second].output) = true;
  }
  std::vector<Slot> slots;
  for (const auto& target : targets) {
    if (target.input) slots.push_back({target.layer, -1, true});
    if (target.output) {
      for (int64_t element : output_elements(target.module)) {
        slots.push_back({target.layer, element, false});
      }
    }
  }
  return slots;
}

std::vector<c10::IValue> default_arguments(const Model& model) {
  const auto& schema = model.module().get_method("forward").function().getSchema();
  std::vector<c10::IValue> out;
  for (std::size_t i = 2; i < schema.arguments().size(); ++i) {
    const auto& default_value = schema.arguments()[i].default_value();
    out.push_back(default_value ? *default_value : c10::IValue());
  }
  return out;
}

std::vector<std::vector<at::Tensor>> run_lists(const std::shared_ptr<torch::jit::Graph>& graph,
                                               const Model& model, const at::Tensor& input) {
  torch::jit::Code code(graph, "torchprobe_extract");
  torch::jit::Stack stack{model.module()._ivalue(), input};
  for (auto& v : default_arguments(model)) stack.push_back(v);
  {
    c10::InferenceMode inference;
    try {
      torch::jit::InterpreterState(code).run(stack);
    } catch (const std::exception& e) {
      throw forward_error(model.path(), describe_expected_input(model), input, e,
                          "give the model's input size with --input-size CxHxW");
    }
  }
  std::vector<std::vector<at::Tensor>> lists;
  for (const auto& list : stack.back().toTupleRef().elements()) {
    lists.push_back(list.toTensorVector());
  }
  return lists;
}

bool bitwise_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  at::Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

[[noreturn]] void internal(const std::string& why) {
  throw CaptureError(ExitCode::kInternal, "cannot extract a probe: " + why,
                     "please report this with the model and layers; 'torchprobe run' is not affected");
}

// Checks a probe's output dictionary against the capture program's captures.
void check_outputs(const c10::IValue& output, const Extractor& extractor, const std::string& what) {
  if (!output.isGenericDict()) internal(what + " does not return a dictionary");
  auto dict = output.toGenericDict();
  if (dict.size() != extractor.names.size()) {
    internal(what + " returns " + std::to_string(dict.size()) + " captures instead of " +
             std::to_string(extractor.names.size()));
  }
  for (std::size_t i = 0; i < extractor.names.size(); ++i) {
    auto found = dict.find(extractor.names[i]);
    if (found == dict.end()) internal(what + " has no capture '" + extractor.names[i] + "'");
    if (!bitwise_equal(found->value().toTensor(), extractor.expected[i])) {
      internal(what + " gives a different '" + extractor.names[i] + "' than the capture program");
    }
  }
}

c10::IValue run_module(torch::jit::Module& module, const at::Tensor& input) {
  c10::InferenceMode inference;
  return module.forward({input});
}

}  // namespace

Extractor build_extractor(Model& model, const ExtractOptions& options) {
  if (options.layers.empty()) {
    throw UsageError("no layer given: name at least one with --layer NAME",
                     "run 'torchprobe layers " + model.path() + "' to list layer names");
  }
  model.set_mode(options.mode);
  CaptureProgram program = CaptureProgram::build(model, options.layers, CaptureOptions{true});
  std::vector<CaptureRequest> requests;
  for (const auto& text : options.layers) requests.push_back(CaptureRequest::parse(text));

  Extractor extractor;
  std::vector<int64_t> chw = options.input_size.value_or(
      model.input_size().value_or(std::vector<int64_t>{3, 224, 224}));
  extractor.example_size = {1, chw.at(0), chw.at(1), chw.at(2)};
  extractor.example =
      render_stimulus(StimulusSpec::parse("noise:0"), chw[0], Size2{chw[1], chw[2]}).unsqueeze(0);

  // 1. Call counts and names from one example forward.
  auto graph = program.graph()->copy();
  auto lists = run_lists(graph, model, extractor.example);
  std::vector<Slot> slots = capture_slots(model, requests);
  if (slots.size() != lists.size()) {
    internal("the capture program returns " + std::to_string(lists.size()) + " lists, expected " +
             std::to_string(slots.size()));
  }
  struct Key {
    std::size_t slot;
    std::size_t call;
  };
  std::vector<Key> keys;
  std::unordered_set<std::string> named;
  for (const auto& request : requests) {
    bool any = false;
    for (std::size_t s = 0; s < slots.size(); ++s) {
      if (slots[s].layer != request.layer || slots[s].input != request.input) continue;
      const std::size_t calls = lists[s].size();
      for (std::size_t i = 0; i < calls; ++i) {
        if (request.call && int64_t(i) != *request.call) continue;
        std::string name = slots[s].layer;
        if (calls > 1 || request.call) name += "#" + std::to_string(i);
        if (slots[s].element >= 0) name += "[" + std::to_string(slots[s].element) + "]";
        if (slots[s].input) name += ":in";
        any = true;
        if (named.insert(name).second) {
          extractor.names.push_back(name);
          extractor.shapes.push_back(lists[s][i].sizes().vec());
          keys.push_back({s, i});
        }
      }
    }
    if (!any) extractor.not_called.push_back(request.to_string());
  }
  // The same names, in the same order, as CaptureProgram::run gives.
  Captures captures = program.run(extractor.example);
  std::vector<std::string> expected_names;
  for (const auto& c : captures.captures) {
    expected_names.push_back(c.name);
    extractor.expected.push_back(c.value);
  }
  if (expected_names != extractor.names) internal("capture names do not match the capture program's");

  // 2. The dictionary.
  {
    torch::jit::WithInsertPoint guard(graph->return_node());
    torch::jit::Node* unpack = graph->insertNode(graph->createTupleUnpack(graph->outputs()[0]));
    std::vector<torch::jit::Value*> names, values;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      names.push_back(graph->insertConstant(extractor.names[k]));
      torch::jit::Value* index = graph->insertConstant(int64_t(keys[k].call));
      values.push_back(graph->insert(c10::Symbol::fromQualString("aten::__getitem__"),
                                     {unpack->output(keys[k].slot), index}));
    }
    torch::jit::Value* dict = graph->insertNode(graph->createDict(c10::StringType::get(),
                                                                  c10::TensorType::get(), names,
                                                                  values))->output();
    graph->eraseOutput(0);
    graph->registerOutput(dict);
  }

  // 3. The probe module and its `self`.
  auto cu = model.module()._ivalue()->compilation_unit();
  torch::jit::Module probe(c10::QualifiedName("__torch__.torchprobe.CaptureProbe"), cu,
                           /*shouldMangle=*/true);
  probe.register_attribute("training", c10::BoolType::get(), false);
  probe.register_module("model", model.module());
  torch::jit::Value* model_self = graph->inputs()[0];
  torch::jit::Value* probe_self = graph->insertInput(0, "self");
  probe_self->setType(probe.type());
  {
    torch::jit::WithInsertPoint guard(graph->block()->nodes().front());
    model_self->replaceAllUsesWith(graph->insertGetAttr(probe_self, "model"));
  }
  graph->eraseInput(1);

  // 4. Defaulted arguments become constants.
  std::vector<c10::IValue> defaults = default_arguments(model);
  for (std::size_t i = 0; i < defaults.size(); ++i) {
    torch::jit::Value* argument = graph->inputs()[2];
    torch::jit::WithInsertPoint guard(graph->block()->nodes().front());
    auto constant = torch::jit::tryInsertConstant(*graph, defaults[i]);
    if (!constant) internal("argument '" + argument->debugName() + "' has a default that is not a constant");
    argument->replaceAllUsesWith(*constant);
    graph->eraseInput(2);
  }
  torch::jit::EliminateDeadCode(graph);

  torch::jit::Function* forward =
      cu->create_function(c10::QualifiedName(*probe.type()->name(), "forward"), graph);
  probe.type()->addMethod(forward);
  extractor.module = probe;
  check_outputs(run_module(extractor.module, extractor.example), extractor, "the probe");

  extractor.model_metadata = model.metadata();
  extractor.info = {{"format", "torchprobe-probe/1"},
                    {"torchprobe", TORCHPROBE_VERSION},
                    {"model", {{"path", model.path()}, {"sha256", model.sha256()},
                               {"mode", to_string(options.mode)}}},
                    {"layers", options.layers},
                    {"captures", extractor.names},
                    {"shapes", extractor.shapes},
                    {"not_called", extractor.not_called},
                    {"example_input_size", extractor.example_size},
                    {"truncated", true}};
  return extractor;
}

void save_extractor(const Extractor& extractor, const std::string& path) {
  torch::jit::ExtraFilesMap extra{{"torchprobe_probe.json", extractor.info.dump(2) + "\n"}};
  if (!extractor.model_metadata.is_null()) {
    extra["torchprobe.json"] = extractor.model_metadata.dump(2) + "\n";
  }
  std::stringstream bytes;
  try {
    extractor.module.save(bytes, extra);
  } catch (const c10::Error& e) {
    internal(std::string("TorchScript cannot serialize the probe: ") + e.what_without_backtrace());
  }
  // What a user will load: the bytes, read back by torch::jit::load.
  torch::jit::Module loaded;
  try {
    std::istringstream in(bytes.str());
    loaded = torch::jit::load(in);
  } catch (const c10::Error& e) {
    internal(std::string("the saved probe does not load: ") + e.what_without_backtrace());
  }
  check_outputs(run_module(loaded, extractor.example), extractor, "the saved probe");

  AtomicFile file(path);
  file.stream() << bytes.str();
  file.commit();
}

}  // namespace torchprobe
