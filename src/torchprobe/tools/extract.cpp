// Turning a capture program into a standalone TorchScript module (see extract.h).
//
// The capture program's graph (capture.cpp) takes (self: Model, x, <defaulted arguments>) and
// returns a tuple with one Tensor[] per capture slot, each list holding that slot's calls in call
// order. To make it a probe:
//  1. run it once on the example to learn each list's length; CaptureProgram::select names the
//     list elements (the one naming rule, capture_name());
//  2. append aten::__getitem__(list, i) for every named element and a prim::DictConstruct;
//  3. give the graph a new `self` of a fresh module class (CaptureProbe) that holds the model as
//     submodule `model`: the old self becomes prim::GetAttr[name="model"](self), so the model's
//     own class types, methods and the module object are used unchanged;
//  4. defaulted arguments become constants, so the probe's forward takes only x.
#include "torchprobe/tools/extract.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <cstring>
#include <sstream>

#include "torchprobe/capture/capture.h"
#include "torchprobe/detail/atomic_file.h"
#include "torchprobe/detail/bitwise_equal.h"
#include "torchprobe/errors.h"
#include "torchprobe/stimuli/stimulus.h"
#include "torchprobe/version.h"

namespace torchprobe {
namespace {

using detail::bitwise_equal;

[[noreturn]] void internal(const std::string& why) {
  throw CaptureError(
      ExitCode::kInternal, "cannot extract a probe: " + why,
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

// Step 1: runs the program on the example; names, shapes and values of its captures.
CaptureProgram::Selection capture_example(const CaptureProgram& program, Extractor& extractor) {
  std::vector<std::vector<at::Tensor>> lists = program.run_lists(extractor.example);
  std::vector<std::size_t> calls_per_slot;
  for (const auto& list : lists) calls_per_slot.push_back(list.size());
  CaptureProgram::Selection selection = program.select(calls_per_slot);
  for (const auto& key : selection.keys) {
    const at::Tensor& value = lists[key.slot][key.call];
    extractor.names.push_back(key.name);
    extractor.shapes.push_back(value.sizes().vec());
    extractor.expected.push_back(value);
  }
  extractor.not_called = selection.not_called;
  return selection;
}

// Step 2: the graph returns {name: list[call]} instead of the tuple of lists.
void return_dictionary(torch::jit::Graph& graph,
                       const std::vector<CaptureProgram::CaptureKey>& keys) {
  torch::jit::WithInsertPoint guard(graph.return_node());
  torch::jit::Node* unpack = graph.insertNode(graph.createTupleUnpack(graph.outputs()[0]));
  std::vector<torch::jit::Value*> names, values;
  for (const auto& key : keys) {
    names.push_back(graph.insertConstant(key.name));
    torch::jit::Value* index = graph.insertConstant(int64_t(key.call));
    values.push_back(graph.insert(c10::Symbol::fromQualString("aten::__getitem__"),
                                  {unpack->output(key.slot), index}));
  }
  torch::jit::Value* dict = graph
                                .insertNode(graph.createDict(c10::StringType::get(),
                                                             c10::TensorType::get(), names, values))
                                ->output();
  graph.eraseOutput(0);
  graph.registerOutput(dict);
}

// Step 3: a CaptureProbe module holding the model as `model`; the graph's self becomes the probe.
torch::jit::Module make_probe_self(torch::jit::Graph& graph, const Model& model) {
  auto cu = model.module()._ivalue()->compilation_unit();
  torch::jit::Module probe(c10::QualifiedName("__torch__.torchprobe.CaptureProbe"), cu,
                           /*shouldMangle=*/true);
  probe.register_attribute("training", c10::BoolType::get(), false);
  probe.register_module("model", model.module());
  torch::jit::Value* model_self = graph.inputs()[0];
  torch::jit::Value* probe_self = graph.insertInput(0, "self");
  probe_self->setType(probe.type());
  {
    torch::jit::WithInsertPoint guard(graph.block()->nodes().front());
    model_self->replaceAllUsesWith(graph.insertGetAttr(probe_self, "model"));
  }
  graph.eraseInput(1);
  return probe;
}

// Step 4: the defaulted arguments after x become constants, so that forward takes x alone.
void fold_default_arguments(torch::jit::Graph& graph, const std::vector<c10::IValue>& defaults) {
  for (const auto& value : defaults) {
    torch::jit::Value* argument = graph.inputs()[2];
    torch::jit::WithInsertPoint guard(graph.block()->nodes().front());
    auto constant = torch::jit::tryInsertConstant(graph, value);
    if (!constant)
      internal("argument '" + argument->debugName() + "' has a default that is not a constant");
    argument->replaceAllUsesWith(*constant);
    graph.eraseInput(2);
  }
}

nlohmann::json probe_info(const Model& model, const ExtractOptions& options,
                          const Extractor& extractor) {
  return {{"format", "torchprobe-probe/1"},
          {"torchprobe", TORCHPROBE_VERSION},
          {"model",
           {{"path", model.path()}, {"sha256", model.sha256()}, {"mode", to_string(options.mode)}}},
          {"layers", options.layers},
          {"captures", extractor.names},
          {"shapes", extractor.shapes},
          {"not_called", extractor.not_called},
          {"example_input_size", extractor.example_size},
          {"truncated", true}};
}

}  // namespace

Extractor build_extractor(Model& model, const ExtractOptions& options) {
  require_layers(options.layers, model.path());
  model.set_mode(options.mode);
  CaptureProgram program = CaptureProgram::build(model, options.layers, CaptureOptions{true});

  Extractor extractor;
  std::vector<int64_t> chw =
      options.input_size.value_or(model.input_size().value_or(std::vector<int64_t>{3, 224, 224}));
  extractor.example_size = {1, chw.at(0), chw.at(1), chw.at(2)};
  extractor.example =
      render_stimulus(StimulusSpec::parse("noise:0"), chw[0], Size2{chw[1], chw[2]}).unsqueeze(0);

  CaptureProgram::Selection selection = capture_example(program, extractor);
  auto graph = program.graph()->copy();
  return_dictionary(*graph, selection.keys);
  torch::jit::Module probe = make_probe_self(*graph, model);
  fold_default_arguments(*graph, program.default_arguments());
  torch::jit::EliminateDeadCode(graph);

  auto cu = model.module()._ivalue()->compilation_unit();
  probe.type()->addMethod(
      cu->create_function(c10::QualifiedName(*probe.type()->name(), "forward"), graph));
  extractor.module = probe;
  check_outputs(run_module(extractor.module, extractor.example), extractor, "the probe");

  extractor.model_metadata = model.metadata();
  extractor.info = probe_info(model, options, extractor);
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
