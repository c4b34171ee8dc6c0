// `torchprobe layers MODEL [--input-size CxHxW] [--json]`
#include <iomanip>
#include <iostream>
#include <map>

#include "cli/commands/command.h"
#include "cli/commands/stimulus_options.h"
#include "torchprobe/errors.h"
#include "torchprobe/model/layers.h"
#include "torchprobe/model/model.h"
#include "torchprobe/tools/explain.h"

namespace torchprobe::cli {
namespace {

struct LayersOptions {
  std::string model;
  std::string input_size;
  bool json = false;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

// The layer list as one JSON document (schema: docs/explain.md).
void print_layers_json(const Model& model, const std::vector<LayerInfo>& layers,
                       const std::vector<std::string>& notes,
                       const std::optional<std::vector<int64_t>>& input_size) {
  nlohmann::json out = {{"model",
                         {{"path", model.path()},
                          {"sha256", model.sha256()},
                          {"kind", model.kind()},
                          {"training", model.saved_training()}}},
                        {"layers", nlohmann::json::array()}};
  if (input_size) out["input_size"] = *input_size;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerInfo& layer = layers[i];
    nlohmann::json item = {{"name", layer.name},
                           {"type", layer.type},
                           {"qualified_type", layer.qualified_type},
                           {"call_sites", layer.call_sites},
                           {"in_branch", layer.in_branch},
                           {"in_loop", layer.in_loop},
                           {"explain", notes[i]},
                           {"traced_identity", layer.traced_identity}};
    if (layer.traced_identity) {
      item["passes_on"] =
          layer.passes_on.empty() ? nlohmann::json() : nlohmann::json(layer.passes_on);
    }
    if (layer.calls) {
      item["calls"] = *layer.calls;
      item["output_shapes"] = layer.output_shapes;
    }
    out["layers"].push_back(item);
  }
  std::cout << out.dump(1) << "\n";
}

// The table: one row per layer, with its output shapes when an input size was given.
void print_layer_table(const std::vector<LayerInfo>& layers, const std::vector<std::string>& notes,
                       bool with_shapes) {
  std::size_t width = 4;
  for (const auto& layer : layers) width = std::max(width, layer.name.size());
  std::cout << std::left << std::setw(int(width)) << "name"
            << "  " << std::setw(22) << "type"
            << "  calls  where   explain         " << (with_shapes ? "output shape" : "") << "\n";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerInfo& layer = layers[i];
    std::string where = layer.in_loop ? "loop" : layer.in_branch ? "branch" : "-";
    int64_t calls = layer.calls.value_or(layer.call_sites);
    std::cout << std::left << std::setw(int(width)) << layer.name << "  " << std::setw(22)
              << layer.type << "  " << std::setw(5) << calls << "  " << std::setw(6) << where
              << "  " << std::setw(16) << (notes[i].empty() ? "-" : notes[i]);
    if (with_shapes) {
      std::string shapes;
      for (const auto& call : layer.output_shapes) {
        for (const auto& shape : call) shapes += (shapes.empty() ? "" : " ") + shape_text(shape);
      }
      std::cout << shapes;
    }
    std::cout << "\n";
  }
}

// The layers marked `identity`, each with what to capture instead.
void print_identity_notes(const std::vector<LayerInfo>& layers) {
  std::string listed;
  for (const auto& layer : layers) {
    if (!layer.traced_identity) continue;
    listed += "\n  " + layer.name;
    if (!layer.passes_on.empty()) listed += "  (passes on '" + layer.passes_on + "')";
  }
  if (listed.empty()) return;
  std::cout << "identity = the tracer recorded no data flow through the layer (it returned its "
               "input unchanged when traced, e.g. an identity in eval mode): nothing of its own "
               "to capture; capture the value it passes on instead:"
            << listed << "\n";
}

// What the table's marks mean, and the ops with effects outside the tensor world.
void print_layer_notes(const Model& model, const std::vector<LayerInfo>& layers) {
  std::cout
      << "explain: functional = functional ops after the previous submodule call, right before "
         "this layer (nn.Sequential skips them); inplace = a later in-place op modifies the "
         "output (hooks need .clone()); train = depends on the training flag; calls = called "
         "more than once. "
         "Run 'torchprobe explain MODEL LAYER' for details.\n";
  print_identity_notes(layers);
  std::map<std::string, int> effects;  // kind -> count
  for (const auto& op : external_effects(model)) {
    effects[op.kind] += op.count;
  }
  if (!effects.empty()) {
    std::cout << "ops with effects outside the tensor world in forward:";
    for (const auto& [kind, count] : effects) std::cout << " " << kind << " x" << count;
    std::cout << " (see 'torchprobe explain')\n";
  }
}

int run_layers(const LayersOptions& options) {
  Model model = Model::load(options.model);
  std::optional<std::vector<int64_t>> input_size;
  if (!options.input_size.empty()) input_size = parse_input_size(options.input_size);
  auto layers = list_layers(model, input_size);
  std::vector<std::string> notes = explain_markers(model);
  if (options.json) {
    print_layers_json(model, layers, notes, input_size);
    return 0;
  }
  std::cout << "model: " << model.path() << " ("
            << (model.kind() == "trace" ? "traced" : "scripted") << ", saved in "
            << (model.saved_training() ? "training" : "eval") << " mode, " << layers.size()
            << " layers)\n";
  if (model.kind() == "trace") {
    std::cout << "note: traced model: branches and loops were fixed when it was traced\n";
  }
  print_layer_table(layers, notes, input_size.has_value());
  print_layer_notes(model, layers);
  return 0;
}

}  // namespace

CommandAction add_layers_command(CLI::App& app) {
  auto options = std::make_shared<LayersOptions>();
  auto* cmd =
      app.add_subcommand("layers", "List the layers (submodules) a model offers for probing");
  cmd->add_option("model", options->model, "TorchScript model file (.pt)")->required();
  cmd->add_option("--input-size", options->input_size,
                  "CxHxW: run once on ones of this size to count calls and show output shapes");
  cmd->add_flag("--json", options->json, "Print JSON instead of a table");
  return [options] { return run_layers(*options); };
}

}  // namespace torchprobe::cli
