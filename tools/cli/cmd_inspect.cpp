// `rnnad inspect` (docs/cli.md): what a model file holds, parsed.
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "command.h"
#include "rnnad/model.h"
#include "text.h"
#include "threshold_options.h"

namespace rnnad::cli {
namespace {

constexpr std::size_t kListedFeatures = 6;  // per-feature statistics printed before "..."

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// "[seq_len 64, batch, 1] -> prediction [1, batch, 10]": what one engine call takes and returns.
std::string io_shapes(const ModelConfig& c) {
  const std::string I = std::to_string(c.input_size());
  const std::string T = c.seq_len() > 0 ? "seq_len " + std::to_string(c.seq_len()) : "steps";
  switch (c.model_kind) {
    case ModelKind::Rnn:
      return "[" + T + ", batch, " + I + "] -> output [" + T + ", batch, " +
             std::to_string(c.rnn.num_directions() * c.rnn.output_size()) + "]";
    case ModelKind::Reconstruction:
      return "[" + T + ", batch, " + I + "] -> reconstruction [" + T + ", batch, " + I + "]";
    case ModelKind::Attention:
      return "[" + T + ", batch, " + I + "] -> reconstruction [" + T + ", batch, " + I + "], attention [" + T +
             ", batch, " + std::to_string(c.seq_len()) + "]";
    case ModelKind::Prediction: {
      const PredictionConfig& p = c.prediction;
      const std::string P = std::to_string(p.prediction_size());
      const std::string what = " (horizon " + std::to_string(p.horizon) + " x " + count(static_cast<int64_t>(p.targets.size()), "target") +
                               (p.moments() == 2 ? " x mean, log-variance)" : ")");
      return p.state == PredictionConfig::State::Windowed
                 ? "[" + T + ", batch, " + I + "] -> prediction [1, batch, " + P + "]" + what
                 : "[steps, batch, " + I + "] -> prediction [steps, batch, " + P + "]" + what;
    }
  }
  return "";
}

void print_normalization(const NormalizationConfig& n) {
  static const char* names[] = {"none", "zscore", "minmax"};
  std::cout << "normalization:  " << names[static_cast<int>(n.method)];
  if (n.method != NormalizationConfig::Method::None) {
    const bool z = n.method == NormalizationConfig::Method::ZScore;
    for (std::size_t f = 0; f < n.center.size() && f < kListedFeatures; ++f)
      std::cout << (f ? "; " : ": ") << (f < n.features.size() ? n.features[f] : "feature " + std::to_string(f))
                << (z ? " mean " : " min ") << num(n.center[f]) << (z ? " std " : " range ") << num(n.scale[f]);
    if (n.center.size() > kListedFeatures) std::cout << "; ... (" << n.center.size() << " features)";
  }
  for (int64_t f : n.constant_features) {
    std::cout << (f == n.constant_features.front() ? "\n                constant features (scale set to 1):" : ",") << " "
              << (f < static_cast<int64_t>(n.features.size()) ? n.features[static_cast<std::size_t>(f)] : std::to_string(f));
  }
  std::cout << "\n";
}

}  // namespace

Command add_inspect(CLI::App& parent) {
  auto path = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand("inspect", "Print a model's kind, shapes, parameter count, normalisation, scoring "
                                                   "and threshold defaults");
  app->add_option("--model,-m", *path, "Model file (.safetensors)")->required();
  return {app, [path] {
            auto model = Model::load(*path);
            const ModelConfig& c = model->config();
            std::map<std::string, int> dtypes;
            for (const auto& [name, w] : model->weights()) ++dtypes[dtype_name(w.stored_dtype)];
            std::cout << "file:           " << *path << "\n"
                      << "format_version: " << c.format_version << "\n"
                      << "kind:           " << c.kind << "\n"
                      << "config:         " << config_summary(c) << "\n"
                      << "shapes:         " << io_shapes(c) << "\n"
                      << "parameters:     " << model->parameter_count() << "\n"
                      << "stored dtypes: ";
            for (const auto& [d, n] : dtypes) std::cout << " " << d << " x" << n;
            std::cout << "\ntensors:       ";
            const TensorShapes tensors = expected_tensors(c);
            for (std::size_t i = 0; i < tensors.size(); ++i)
              std::cout << (i ? ", " : " ") << tensors[i].first << " " << shape_text(tensors[i].second);
            std::cout << "\nproducer:       " << c.producer << "\n";
            print_normalization(c.normalization);
            if (c.has_scoring) {
              static const char* methods[] = {"absolute", "squared", "gaussian_nll", "mahalanobis", "lstm_ad"};
              static const char* poolings[] = {"mean", "max", "last"};
              std::cout << "scoring:        " << methods[static_cast<int>(c.scoring.method)];
              if (c.model_kind == ModelKind::Reconstruction || c.model_kind == ModelKind::Attention)
                std::cout << ", pooling " << poolings[static_cast<int>(c.scoring.pooling)];
              std::cout << ", stride " << c.scoring.stride << "\n";
            }
            std::cout << "threshold:      " << (c.threshold ? describe_defaults(*c.threshold) : "none (rnnad's defaults apply)")
                      << "\n";
            return kExitOk;
          }};
}

}  // namespace rnnad::cli
