#pragma once
// Capturing named submodules' outputs as the real forward computes them.
//
//   auto model = torchprobe::Model::load("googlenet.pt");
//   model.set_mode(torchprobe::Mode::kEval);
//   auto program = torchprobe::CaptureProgram::build(model, {"conv1", "inception3a"}, {});
//   torchprobe::Captures out = program.run(torch::ones({1, 3, 224, 224}));
//   for (const auto& c : out.captures) std::cout << c.name << " " << c.value.sizes() << "\n";
//
// The program is the model's forward graph, rewritten (see capture.cpp): calls are inlined down to
// the requested modules, each requested call's output is cloned as soon as the call returns, and
// (unless truncation is off) everything the captures do not need is removed.
#include <torch/script.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "torchprobe/capture/forward_error.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/model.h"

namespace torchprobe {

// What a user asks for: "NAME" (every call of the module), "NAME#i" (its i-th call only),
// "NAME:in" / "NAME#i:in" (the input of the call instead of its output).
struct CaptureRequest {
  std::string layer;
  std::optional<int64_t> call;
  bool input = false;

  static CaptureRequest parse(const std::string& text);  // throws UsageError
  std::string to_string() const;
};

struct CaptureOptions {
  // Remove every op the captures do not need. Off: the whole forward runs, with the same clones.
  bool truncate = true;
  // Skip requested modules whose output holds no tensor instead of throwing (used by `layers`).
  bool skip_non_tensor = false;
};

// One captured tensor, with its batch dimension, named like "layer1.0.relu#1" or "split[0]".
struct Capture {
  std::string name;
  at::Tensor value;
};

struct Captures {
  std::vector<Capture> captures;
  std::vector<std::string> not_called;  // requests with no matching call in this forward
};

class CaptureProgram {
 public:
  CaptureProgram() = default;  // empty: use build()
  // Throws UnknownLayerError for a name that is not a submodule, or whose call index ("NAME#5")
  // is beyond the calls the module makes when every call of it sits outside any if or loop (so
  // the number of calls is the same in every forward; else a missing call is reported by run()
  // in not_called). Throws CaptureError (kLayerNotCapturable) for a module whose output holds no
  // tensor, including a traced module the tracer recorded without data flow
  // (traced_identity.h). A truncated program has the module's training flags folded in as
  // constants (an untruncated one reads them when it runs): build again after Model::set_mode.
  static CaptureProgram build(const Model& model, const std::vector<std::string>& requests,
                              const CaptureOptions& options);

  // Runs the program on a batch. Throws ForwardError when the model rejects the input (see
  // forward_error()).
  Captures run(const at::Tensor& input) const;

  const std::shared_ptr<torch::jit::Graph>& graph() const { return graph_; }
  // Where the program branches on the input's values (control_flow.h), or nullopt: found once,
  // when the program is built.
  const std::optional<std::string>& value_dependent_branch() const {
    return value_dependent_branch_;
  }
  bool truncated() const { return truncated_; }
  // Number of nodes of a kind (e.g. "aten::conv2d") in the program, at any depth.
  std::size_t count_nodes(const std::string& kind) const;

  // One list of the program's output tuple: every call of one module, in call order.
  struct Slot {
    std::string layer;  // module name as requested
    int64_t element;    // tuple element, or -1 for the whole output
    bool input;         // the call's input rather than its output
  };
  // Where one named capture sits in the program's output: list `slot`, element `call`.
  struct CaptureKey {
    std::string name;
    std::size_t slot;
    std::size_t call;
  };
  struct Selection {
    std::vector<CaptureKey> keys;         // in request order, each name once
    std::vector<std::string> not_called;  // requests with no matching call
  };

  const std::vector<Slot>& slots() const { return slots_; }
  // The defaulted forward arguments after the input, as the program is run with them.
  const std::vector<c10::IValue>& default_arguments() const { return default_arguments_; }
  // Runs the program on a batch and returns its raw output: one list of tensors per slot.
  // Throws ForwardError like run().
  std::vector<std::vector<at::Tensor>> run_lists(const at::Tensor& input) const;
  // Names the captures of a run whose lists have these lengths (one per slot), by the one naming
  // rule (capture_name()), and picks what each request asks for.
  Selection select(const std::vector<std::size_t>& calls_per_slot) const;

 private:
  torch::jit::Module module_;
  std::shared_ptr<torch::jit::Graph> graph_;
  std::shared_ptr<torch::jit::Code> code_;
  std::vector<CaptureRequest> requests_;
  std::vector<Slot> slots_;
  std::vector<c10::IValue> default_arguments_;
  bool truncated_ = true;
  std::string model_path_;
  std::string expected_input_;  // describe_expected_input() of the model, for ForwardError
  std::optional<std::string> value_dependent_branch_;
};

// Throws UsageError when `layers` is empty, with a hint to list the layers of the model at
// `model_path`.
void require_layers(const std::vector<std::string>& layers, const std::string& model_path);

// The naming rule for captures: the module name; "#i" for its i-th call when it was called more
// than once or a call was requested; "[k]" for element k of a tuple output; ":in" for the input.
// E.g. "layer1.0.relu#1", "split[0]", "fc:in".
std::string capture_name(const CaptureProgram::Slot& slot, std::size_t call, bool numbered);

// For analysis (`explain`): a copy of the forward graph after steps 1-3 of the rewrite for
// `layers` (calls containing them inlined, every other module call left as prim::CallMethod),
// with a tagged aten::clone at each call's output and input. Nothing is truncated.
struct AnalysisView {
  struct Point {
    std::string layer;
    bool input;                // the call's input (else its output)
    torch::jit::Value* value;  // the captured value in the graph
    torch::jit::Node* clone;   // the inserted clone (not part of the model's computation)
  };
  std::shared_ptr<torch::jit::Graph> graph;
  std::vector<Point> points;  // in graph order
  // The module whose forward (or helper method) a node was inlined from; "" for the root.
  std::string owner(torch::jit::Node* node) const;
  // True for the clone/append nodes the view inserted.
  static bool is_probe_node(torch::jit::Node* node);
};
AnalysisView build_analysis_view(const Model& model, const std::vector<std::string>& layers);

}  // namespace torchprobe
