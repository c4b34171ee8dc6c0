#include "torchprobe/capture/capture.h"

#include <gtest/gtest.h>

#include "scratch_dir.h"
#include "test_models.h"
#include "torchprobe/errors.h"
#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {
namespace {

using testing::test_model;

at::Tensor noise_batch(int64_t channels, int64_t h, int64_t w, uint64_t seed) {
  auto spec = StimulusSpec::parse("noise:" + std::to_string(seed));
  return render_stimulus(spec, channels, {h, w}).unsqueeze(0);
}

Model eval_model(const std::string& name) {
  Model model = Model::load(test_model(name));
  model.set_mode(Mode::kEval);
  return model;
}

const at::Tensor& find_capture(const Captures& captures, const std::string& name) {
  for (const auto& c : captures.captures) {
    if (c.name == name) return c.value;
  }
  throw std::runtime_error("no capture named " + name);
}

std::size_t convolutions(const CaptureProgram& program) {
  return program.count_nodes("aten::conv2d") + program.count_nodes("aten::_convolution");
}

TEST(Capture, TruncationKeepsOnlyTheFirstConvolutionForConv1) {
  for (const char* name : {"googlenet_script", "googlenet_trace"}) {
    Model model = eval_model(name);
    auto truncated = CaptureProgram::build(model, {"conv1"}, {});
    auto full = CaptureProgram::build(model, {"conv1"}, CaptureOptions{false});
    EXPECT_EQ(convolutions(truncated), 1u) << name;
    EXPECT_GT(convolutions(full), 50u) << name;
  }
}

TEST(Capture, TruncatedEqualsUntruncatedOnEveryTestModel) {
  struct Case {
    const char* model;
    std::vector<std::string> layers;
  };
  std::vector<Case> cases = {
      {"googlenet_script",
       {"conv1.conv", "conv1.bn", "conv1", "inception3a.branch2.1", "inception4c", "fc"}},
      {"googlenet_trace",
       {"conv1.conv", "conv1.bn", "conv1", "inception3a.branch2.1", "inception4c", "fc"}},
      {"densenet121_script",
       {"features.conv0", "features.norm0", "features.denseblock1.denselayer1.conv1",
        "features.transition2", "classifier"}},
      {"densenet121_trace",
       {"features.conv0", "features.norm0", "features.denseblock1.denselayer1.conv1",
        "features.transition2", "classifier"}},
      {"resnet18_script",
       {"layer1.0.relu", "layer1.0.bn2", "layer3.0.downsample.1", "avgpool", "fc"}},
      {"resnet18_trace",
       {"layer1.0.relu", "layer1.0.bn2", "layer3.0.downsample.1", "avgpool", "fc"}},
  };
  at::Tensor input = noise_batch(3, 224, 224, 11);
  for (const auto& c : cases) {
    Model model = eval_model(c.model);
    Captures truncated = CaptureProgram::build(model, c.layers, {}).run(input);
    Captures full = CaptureProgram::build(model, c.layers, CaptureOptions{false}).run(input);
    ASSERT_EQ(truncated.captures.size(), full.captures.size()) << c.model;
    for (std::size_t i = 0; i < full.captures.size(); ++i) {
      EXPECT_EQ(truncated.captures[i].name, full.captures[i].name);
      EXPECT_TRUE(at::equal(truncated.captures[i].value, full.captures[i].value))
          << c.model << " " << full.captures[i].name;
    }
  }
}

class CaptureScratchTest : public test_support::ScratchDirTest {
 protected:
  CaptureScratchTest() : ScratchDirTest("capture") {}
};

TEST_F(CaptureScratchTest, TruncatedProgramRunsNothingAfterTheLastCapture) {
  // forward counts its calls before and after the captured call, in module state
  // (prim::SetAttr, a side effect that dead-code elimination keeps).
  torch::jit::Module inner("Inner");
  inner.define("def forward(self, x):\n  return x * 2.0\n");
  torch::jit::Module outer("Outer");
  outer.register_module("inner", inner);
  outer.register_attribute("before", c10::IntType::get(), 0);
  outer.register_attribute("after", c10::IntType::get(), 0);
  outer.define(
      "def forward(self, x):\n"
      "  self.before += 1\n"
      "  y = self.inner.forward(x)\n"
      "  self.after += 1\n"
      "  return y + 1.0\n");
  outer.save(path("counting.pt"));
  Model model = Model::load(path("counting.pt"));
  at::Tensor input = at::ones({1, 2});

  Captures truncated = CaptureProgram::build(model, {"inner"}, {}).run(input);
  EXPECT_TRUE(at::equal(find_capture(truncated, "inner"), input * 2.0));
  EXPECT_EQ(model.module().attr("before").toInt(), 1);
  EXPECT_EQ(model.module().attr("after").toInt(), 0);

  CaptureProgram::build(model, {"inner"}, CaptureOptions{false}).run(input);
  EXPECT_EQ(model.module().attr("before").toInt(), 2);
  EXPECT_EQ(model.module().attr("after").toInt(), 1);
}

TEST(Capture, ChannelsLastGivesTheSameResponsesWithinFloatRounding) {
  struct Case {
    const char* model;
    std::vector<std::string> layers;
  };
  std::vector<Case> cases = {
      {"googlenet_script", {"conv1", "inception3a", "inception4e", "fc"}},
      {"resnet18_trace", {"layer1.0.bn2", "layer4.1.relu", "fc"}},
      {"densenet121_script", {"features.denseblock1", "features.transition3", "classifier"}},
  };
  at::Tensor input = noise_batch(3, 224, 224, 5);
  for (const auto& c : cases) {
    Model model = eval_model(c.model);
    Captures contiguous = CaptureProgram::build(model, c.layers, {}).run(input);
    model.set_channels_last(true);
    Captures channels_last = CaptureProgram::build(model, c.layers, {}).run(input);
    ASSERT_EQ(channels_last.captures.size(), contiguous.captures.size()) << c.model;
    for (std::size_t i = 0; i < contiguous.captures.size(); ++i) {
      const at::Tensor& want = contiguous.captures[i].value;
      const at::Tensor& got = channels_last.captures[i].value;
      // The layout took effect: every captured map comes out channels-last.
      if (got.dim() == 4) EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast)) << c.model;
      // Another summation order: float32 rounding, relative to the layer's largest magnitude.
      const double scale = std::max(1.0, want.abs().max().item<double>());
      EXPECT_LE((got - want).abs().max().item<double>(), 1e-5 * scale)
          << c.model << " " << contiguous.captures[i].name;
    }
  }
}

TEST(Capture, ClonesBeforeInplaceRelu) {
  // BasicConv2d.forward is conv -> bn -> F.relu(x, inplace=True): a capture of bn that was not
  // cloned at call time would hold the rectified values.
  Model model = eval_model("googlenet_script");
  Captures out =
      CaptureProgram::build(model, {"conv1.bn", "conv1"}, {}).run(noise_batch(3, 64, 64, 3));
  const at::Tensor& bn = find_capture(out, "conv1.bn");
  const at::Tensor& relu = find_capture(out, "conv1");
  EXPECT_LT(bn.min().item<float>(), 0.0f);
  EXPECT_TRUE(at::equal(at::relu(bn), relu));
}

TEST(Capture, ClonesOnlyCapturesThatALaterOpCouldOverwrite) {
  // With conv1 also captured, the F.relu(x, inplace=True) after conv1.bn runs, so conv1.bn keeps
  // its clone; conv1 (the ReLU's result) and inception3a (a torch.cat) are never written after
  // their call: no copy of them is made.
  Model model = eval_model("googlenet_script");
  EXPECT_EQ(CaptureProgram::build(model, {"conv1.bn", "conv1"}, {}).count_nodes("aten::clone"), 1u);
  EXPECT_EQ(CaptureProgram::build(model, {"conv1", "inception3a"}, {}).count_nodes("aten::clone"),
            0u);
  // conv1.bn alone: truncation drops everything after it, the in-place ReLU included.
  EXPECT_EQ(CaptureProgram::build(model, {"conv1.bn"}, {}).count_nodes("aten::clone"), 0u);
  // Untruncated, the whole forward runs after the capture and is analysed the same way:
  // functional_inplace's relu and add_ write bn1's output in place.
  Model inplace = eval_model("functional_inplace_script");
  EXPECT_EQ(
      CaptureProgram::build(inplace, {"bn1"}, CaptureOptions{false}).count_nodes("aten::clone"),
      1u);
}

TEST(Capture, CapturesWithoutCloneEqualTheClonedOnes) {
  // The same values whether or not a capture was copied: compare with a program whose captures
  // are all cloned because a later in-place op reaches them (an untruncated program keeps the
  // model's own in-place ops after every capture of functional_inplace).
  Model model = eval_model("googlenet_script");
  at::Tensor input = noise_batch(3, 64, 64, 2);
  Captures lean = CaptureProgram::build(model, {"conv1", "inception3a"}, {}).run(input);
  Captures full =
      CaptureProgram::build(model, {"conv1.bn", "conv1", "inception3a"}, CaptureOptions{false})
          .run(input);
  EXPECT_TRUE(at::equal(find_capture(lean, "conv1"), find_capture(full, "conv1")));
  EXPECT_TRUE(at::equal(find_capture(lean, "inception3a"), find_capture(full, "inception3a")));
}

TEST(Capture, RepeatedCallsAreNumberedInCallOrder) {
  Model model = eval_model("resnet18_script");
  Captures out = CaptureProgram::build(model, {"layer1.0.relu", "layer1.0.bn1", "layer1.0.bn2"}, {})
                     .run(noise_batch(3, 64, 64, 5));
  std::vector<std::string> names;
  for (const auto& c : out.captures) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"layer1.0.relu#0", "layer1.0.relu#1", "layer1.0.bn1",
                                             "layer1.0.bn2"}));
  // relu#0 rectifies bn1's output (BasicBlock: relu(bn1(conv1(x)))).
  EXPECT_TRUE(
      at::equal(find_capture(out, "layer1.0.relu#0"), at::relu(find_capture(out, "layer1.0.bn1"))));
}

TEST(Capture, SelectedCallOnly) {
  Model model = eval_model("resnet18_script");
  Captures out =
      CaptureProgram::build(model, {"layer1.0.relu#1"}, {}).run(noise_batch(3, 64, 64, 5));
  ASSERT_EQ(out.captures.size(), 1u);
  EXPECT_EQ(out.captures[0].name, "layer1.0.relu#1");
}

TEST(Capture, CallIndexBeyondAStaticCallCountIsAnUnknownLayer) {
  // Both call sites of layer1.0.relu are outside any if or loop: two calls in every forward.
  for (const char* name : {"resnet18_script", "resnet18_trace"}) {
    Model model = eval_model(name);
    try {
      CaptureProgram::build(model, {"layer1.0.relu#2"}, {});
      FAIL() << "expected UnknownLayerError for " << name;
    } catch (const UnknownLayerError& e) {
      EXPECT_NE(std::string(e.what()).find(
                    "unknown layer 'layer1.0.relu#2' in model '" + model.path() +
                    "': layer1.0.relu is called 2 times in the forward (layer1.0.relu#0, "
                    "layer1.0.relu#1), outside any if or loop"),
                std::string::npos)
          << e.what();
      EXPECT_NE(e.hint().find("layer1.0.relu for every call"), std::string::npos) << e.hint();
    }
  }
}

TEST(Capture, CallIndexBeyondCallsInALoopIsNotCalled) {
  Model model = eval_model("loop_shared_script");
  Captures out = CaptureProgram::build(model, {"shared#3"}, {}).run(noise_batch(3, 32, 32, 5));
  EXPECT_TRUE(out.captures.empty());
  EXPECT_EQ(out.not_called, std::vector<std::string>{"shared#3"});
}

TEST(Capture, TracedIdentityIsNotCapturableAndNamesWhatItPassesOn) {
  Model model = eval_model("identity_modules_trace");
  try {
    CaptureProgram::build(model, {"res.stochastic_depth"}, {});
    FAIL() << "expected CaptureError";
  } catch (const CaptureError& e) {
    EXPECT_EQ(e.code(), ExitCode::kLayerNotCapturable);
    EXPECT_NE(std::string(e.what()).find("the tracer recorded no data flow through it"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("it passes on the output of 'res.block'"),
              std::string::npos)
        << e.what();
    EXPECT_NE(e.hint().find("capture 'res.block' instead"), std::string::npos) << e.hint();
  }
  // Scripted, the same module is an ordinary call: in eval mode it returns the block's output.
  Model scripted = eval_model("identity_modules_script");
  Captures out = CaptureProgram::build(scripted, {"res.stochastic_depth", "res.block"}, {})
                     .run(noise_batch(3, 32, 32, 2));
  EXPECT_TRUE(at::equal(find_capture(out, "res.stochastic_depth"), find_capture(out, "res.block")));
}

TEST(Capture, InputOfACallIsThePreviousOutput) {
  Model model = eval_model("resnet18_script");
  Captures out = CaptureProgram::build(model, {"layer1.0.conv1:in", "maxpool"}, {})
                     .run(noise_batch(3, 64, 64, 9));
  EXPECT_TRUE(at::equal(find_capture(out, "layer1.0.conv1:in"), find_capture(out, "maxpool")));
}

TEST(Capture, UntakenBranchIsReportedNotCalled) {
  for (const char* name : {"untaken_branch_script"}) {
    Model model = eval_model(name);
    Captures out =
        CaptureProgram::build(model, {"never", "body"}, {}).run(noise_batch(3, 32, 32, 1));
    EXPECT_EQ(out.not_called, std::vector<std::string>{"never"});
    ASSERT_EQ(out.captures.size(), 1u);
    EXPECT_EQ(out.captures[0].name, "body");
  }
}

TEST(Capture, TupleOutputGivesOneCapturePerElement) {
  Model model = eval_model("tuple_output_script");
  Captures out = CaptureProgram::build(model, {"split"}, {}).run(noise_batch(3, 32, 32, 1));
  ASSERT_EQ(out.captures.size(), 2u);
  EXPECT_EQ(out.captures[0].name, "split[0]");
  EXPECT_EQ(out.captures[1].name, "split[1]");
}

TEST(Capture, UnknownLayerSuggestsCloseNames) {
  Model model = eval_model("resnet18_script");
  try {
    CaptureProgram::build(model, {"layer1.0.conv"}, {});
    FAIL() << "expected UnknownLayerError";
  } catch (const UnknownLayerError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown layer 'layer1.0.conv'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("layer1.0.conv1"), std::string::npos);
    EXPECT_NE(e.hint().find("torchprobe layers"), std::string::npos);
    EXPECT_EQ(e.code(), ExitCode::kUnknownLayer);
  }
}

TEST(Capture, ForwardFailureNamesModelShapeAndExpectationInOneLine) {
  for (const char* name : {"tiny_gray_script", "tiny_gray_trace"}) {
    Model model = eval_model(name);
    auto program = CaptureProgram::build(model, {"conv1"}, {});
    for (const auto& [input, why] :
         {std::pair{noise_batch(3, 8, 8, 1), "expected input[1, 3, 8, 8] to have 1 channels"},
          std::pair{noise_batch(1, 2, 2, 1),
                    "Kernel size can't be greater than actual input size"}}) {
      try {
        program.run(input);
        FAIL() << "expected ForwardError";
      } catch (const ForwardError& e) {
        const std::string what = e.what();
        EXPECT_EQ(e.code(), ExitCode::kForward);
        EXPECT_EQ(
            what.find("forward of model '" + test_model(name) +
                      "' failed on an input of shape [1, " + std::to_string(input.size(1)) + ", " +
                      std::to_string(input.size(2)) + ", " + std::to_string(input.size(3)) + "]: "),
            0u)
            << what;
        EXPECT_NE(what.find(why), std::string::npos) << what;
        EXPECT_NE(what.find("it expects input 1x32x32 (the model's metadata)"), std::string::npos)
            << what;
        EXPECT_EQ(what.find('\n'), std::string::npos) << "no TorchScript traceback: " << what;
        EXPECT_NE(e.hint_template().find("{size}"), std::string::npos);
      }
    }
  }
}

TEST(CaptureRequest, ParsesCallIndexAndInputSuffix) {
  auto r = CaptureRequest::parse("layer1.0.relu#1:in");
  EXPECT_EQ(r.layer, "layer1.0.relu");
  ASSERT_TRUE(r.call.has_value());
  EXPECT_EQ(*r.call, 1);
  EXPECT_TRUE(r.input);
  EXPECT_EQ(r.to_string(), "layer1.0.relu#1:in");
  EXPECT_THROW(CaptureRequest::parse("conv#x"), UsageError);
  EXPECT_THROW(CaptureRequest::parse("#1"), UsageError);
}

}  // namespace
}  // namespace torchprobe
