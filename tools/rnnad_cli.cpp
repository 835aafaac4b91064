// rnnad: command-line front end. Exit codes (docs/cli.md): 0 success, 1 validation failed,
// 2 usage error, 3 bad input (rnnad::Error: file, format, shape, device), 4 internal error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "rnnad/device.h"
#include "rnnad/error.h"
#include "rnnad/model.h"
#include "rnnad/validate.h"
#include "rnnad/version.h"

namespace {

constexpr int kExitFailed = 1, kExitBadInput = 3, kExitInternal = 4;

int run_validate(const std::string& model_path, std::string reference_path, const std::string& device_text) {
  const rnnad::Device device = rnnad::parse_device(device_text);
  if (reference_path.empty()) {
    reference_path = rnnad::default_reference_path(model_path).string();
    if (!std::filesystem::exists(reference_path))
      throw rnnad::IoError(reference_path + ": no such file (the default reference file of " + model_path +
                           "; give one with --reference)");
  }
  auto model = rnnad::Model::load(model_path);
  const rnnad::ValidationReport r = rnnad::validate(model, reference_path, device);
  std::cout << model_path << ": " << r.summary() << "\n";
  if (!r.description.empty()) std::cout << "  reference: " << r.description << "\n";
  return r.passed ? 0 : kExitFailed;
}

int run_inspect(const std::string& model_path) {
  auto model = rnnad::Model::load(model_path);
  const auto& c = model->config();
  std::map<std::string, int> dtypes;
  for (const auto& [name, w] : model->weights()) ++dtypes[rnnad::dtype_name(w.stored_dtype)];
  std::cout << "file:           " << model_path << "\n"
            << "format_version: " << c.format_version << "\n"
            << "kind:           " << c.kind << "\n"
            << "config:         " << rnnad::config_summary(c) << "\n"
            << "parameters:     " << model->parameter_count() << "\n"
            << "stored dtypes: ";
  for (const auto& [d, n] : dtypes) std::cout << " " << d << " x" << n;
  std::cout << "\nproducer:       " << c.producer << "\n";
  static const char* norm_names[] = {"none", "zscore", "minmax"};
  std::cout << "normalization:  " << norm_names[static_cast<int>(c.normalization.method)];
  for (int64_t f : c.normalization.constant_features) {
    const auto& names = c.normalization.features;
    std::cout << (f == c.normalization.constant_features.front() ? "; constant features (scale set to 1):" : ",") << " "
              << (f < static_cast<int64_t>(names.size()) ? names[static_cast<std::size_t>(f)] : std::to_string(f));
  }
  std::cout << "\n";
  if (c.has_scoring) {
    static const char* methods[] = {"absolute", "squared", "gaussian_nll", "mahalanobis", "lstm_ad"};
    static const char* poolings[] = {"mean", "max", "last"};
    std::cout << "scoring:        " << methods[static_cast<int>(c.scoring.method)];
    if (c.model_kind == rnnad::ModelKind::Reconstruction || c.model_kind == rnnad::ModelKind::Attention)
      std::cout << ", pooling " << poolings[static_cast<int>(c.scoring.pooling)];
    std::cout << ", stride " << c.scoring.stride << "\n";
  }
  if (!c.threshold_json.empty()) std::cout << "threshold:      " << c.threshold_json << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rnnad: LSTM/GRU inference for time-series anomaly detection"};
  app.set_version_flag("--version", std::string("rnnad ") + rnnad::version());
  app.require_subcommand(1);

  std::string model_path, reference_path, device = "auto";
  auto* validate = app.add_subcommand("validate", "Run a model on the inputs of its reference file and compare with "
                                                  "PyTorch's outputs (exit 0 pass, 1 fail)");
  validate->add_option("--model,-m", model_path, "Model file (.safetensors)")->required();
  validate->add_option("--reference,-r", reference_path,
                       "Reference file (default: MODEL with .reference.safetensors)");
  validate->add_option("--device,-d", device, "auto, cpu, cuda or cuda:N")->capture_default_str();

  std::string inspect_path;
  auto* inspect = app.add_subcommand("inspect", "Print a model's kind, shapes and parameter count");
  inspect->add_option("--model,-m", inspect_path, "Model file (.safetensors)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (documented in README.md).
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*validate) return run_validate(model_path, reference_path, device);
    if (*inspect) return run_inspect(inspect_path);
  } catch (const rnnad::Error& e) {
    std::cerr << "rnnad: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "rnnad: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return 0;
}
