#include "torchprobe/errors.h"

namespace torchprobe {

const char* describe(ExitCode code) {
  switch (code) {
    case ExitCode::kOk: return "success";
    case ExitCode::kDifferent: return "a comparison found a difference";
    case ExitCode::kUsage: return "bad command line or option value";
    case ExitCode::kModelMissing: return "model file not found";
    case ExitCode::kModelIsDirectory: return "model path is a directory";
    case ExitCode::kModelEmpty: return "model file is empty";
    case ExitCode::kModelNotArchive: return "model file is not a zip archive";
    case ExitCode::kModelNotTorchScript: return "zip archive without TorchScript code";
    case ExitCode::kModelPickle: return "torch.save() file (state_dict or eager module), not TorchScript";
    case ExitCode::kModelTruncated: return "model archive is truncated";
    case ExitCode::kModelFrozen: return "frozen model: submodules were removed";
    case ExitCode::kModelLoad: return "LibTorch could not load the model";
    case ExitCode::kUnknownLayer: return "unknown layer name";
    case ExitCode::kLayerNotCapturable: return "layer output is not a tensor";
    case ExitCode::kReadout: return "readout does not fit the captured shape";
    case ExitCode::kStimulus: return "bad stimulus spec or stimulus file";
    case ExitCode::kForward: return "the model's forward failed on the input";
    case ExitCode::kOutput: return "output cannot be written";
    case ExitCode::kOutputExists: return "output exists (use --force or --resume)";
    case ExitCode::kBadResults: return "input is not a readable torchprobe output";
    case ExitCode::kInternal: return "internal error (a bug)";
    case ExitCode::kInterrupted: return "interrupted (SIGINT)";
    case ExitCode::kTerminated: return "terminated (SIGTERM)";
  }
  return "unknown";
}

}  // namespace torchprobe
