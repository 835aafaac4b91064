// Loading and validating rnnad model files (docs/model_format.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rnnad/cell_type.h"
#include "rnnad/safetensors.h"
#include "rnnad/score_math.h"

namespace rnnad {

/// Current model-file format version; files with a larger `format_version` are rejected.
inline constexpr int kModelFormatVersion = 1;

/// "RNN_TANH", "RNN_RELU", "LSTM" or "GRU" (PyTorch's `mode` strings).
const char* cell_type_name(CellType cell);

/// Hyper-parameters of one PyTorch recurrent module, with PyTorch's names and meaning
/// (shared/docs/algorithms.md §5). Tensors are `prefix + weight_ih_l{k}[_reverse]` etc.
struct RnnConfig {
  CellType mode = CellType::Lstm;
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  int64_t proj_size = 0;  ///< LSTM only; 0 = no projection
  bool bidirectional = false;
  bool bias = true;
  std::string prefix;  ///< state_dict prefix of the module, e.g. "encoder." ("" for a bare module)

  int64_t num_directions() const { return bidirectional ? 2 : 1; }
  /// G: rows of weight_ih/weight_hh = gates x hidden_size (LSTM 4H, GRU 3H, RNN H).
  int64_t gate_size() const;
  /// H_out: width of h (proj_size when > 0, else hidden_size).
  int64_t output_size() const { return proj_size > 0 ? proj_size : hidden_size; }
  /// Input width of layer `layer`: input_size for layer 0, D * H_out above.
  int64_t layer_input_size(int64_t layer) const {
    return layer == 0 ? input_size : num_directions() * output_size();
  }
  /// Full tensor name, e.g. param_name("weight_ih", 1, 1) == prefix + "weight_ih_l1_reverse".
  std::string param_name(const char* base, int64_t layer, int64_t direction) const;
};

/// Model kinds (docs/models.md).
enum class ModelKind { Rnn, Reconstruction, Prediction, Attention };

/// "rnn", "reconstruction", "prediction" or "attention".
const char* model_kind_name(ModelKind kind);

/// Kind "reconstruction": encoder-decoder reconstructing a window (EncDec-AD, docs/models.md).
struct ReconstructionConfig {
  enum class Decode { Reverse, Forward };
  CellType cell = CellType::Lstm;
  int64_t input_size = 0, hidden_size = 0, num_layers = 1, seq_len = 0;
  bool bidirectional_encoder = false;
  Decode decode = Decode::Reverse;
  RnnConfig encoder() const;  ///< prefix "encoder."
  RnnConfig decoder() const;  ///< prefix "decoder."
};

/// Kind "prediction": stacked forecaster with a linear head (Telemanom, LSTM-AD; docs/models.md).
struct PredictionConfig {
  enum class Output { Point, Gaussian };
  enum class State { Windowed, Stateful };
  CellType cell = CellType::Lstm;
  int64_t input_size = 0, hidden_size = 0, num_layers = 1, horizon = 1;
  int64_t seq_len = 0;           ///< window length (windowed); 0 for stateful
  std::vector<int64_t> targets;  ///< predicted feature indices (d = targets.size())
  Output output = Output::Point;
  State state = State::Windowed;
  /// K = 1 (point) or 2 (Gaussian mean and log-variance).
  int64_t moments() const { return output == Output::Gaussian ? 2 : 1; }
  /// P = horizon * K * d: head outputs per prediction, laid out [horizon, K, d].
  int64_t prediction_size() const { return horizon * moments() * static_cast<int64_t>(targets.size()); }
  RnnConfig rnn() const;  ///< prefix "rnn."
};

/// Kind "attention": encoder-decoder with additive attention (Bahdanau et al. 2015; docs/models.md).
struct AttentionConfig {
  CellType cell = CellType::Lstm;
  int64_t input_size = 0, hidden_size = 0, num_layers = 1, attention_size = 0, seq_len = 0;
  RnnConfig encoder() const;  ///< prefix "encoder."
  RnnConfig decoder() const;  ///< prefix "decoder.", input_size I + H
};

/// How raw input rows are normalised (docs/scoring.md §1): x = (raw - center) / scale.
struct NormalizationConfig {
  enum class Method { None, ZScore, MinMax };
  Method method = Method::None;
  std::vector<double> center;  ///< mean (zscore) or min (minmax); [input_size]
  std::vector<double> scale;   ///< std or max - min, after the constant-feature guard; [input_size]
  std::vector<std::string> features;    ///< column names (may be empty)
  std::vector<int64_t> constant_features;  ///< features whose scale was replaced by 1 (F13)
};

/// How model errors become one score per row (docs/scoring.md §2-§4).
struct ScoringConfig {
  using Method = ScoreMethod;
  using Pooling = ScorePooling;
  Method method = Method::Absolute;
  Pooling pooling = Pooling::Mean;
  int64_t stride = 1;
  double ridge = 1e-6;
  double log_det = 0.0;           ///< ln|Sigma + lambda I| (lstm_ad)
  std::vector<double> mean;       ///< F64 tensor scoring.mean [k] (mahalanobis, lstm_ad)
  std::vector<double> precision;  ///< F64 tensor scoring.precision [k, k], row-major
};

/// Threshold methods (docs/thresholds.md): a static value, Telemanom's nonparametric dynamic
/// threshold (NDT), SPOT and DSPOT (extreme-value theory, on the scores).
enum class ThresholdMethod { Static, Ndt, Spot, Dspot };

/// "static", "ndt", "spot" or "dspot".
const char* threshold_method_name(ThresholdMethod method);

/// The default threshold settings a model file carries (`threshold` config object, written by
/// train.py; docs/model_format.md §5). Every member but `method` is optional: what is absent
/// falls back to rnnad's defaults (docs/cli.md, "Thresholds").
struct ThresholdDefaults {
  ThresholdMethod method = ThresholdMethod::Static;
  std::optional<double> value;         ///< static threshold, score units (finite)
  std::string calibration;             ///< how `value` was chosen (free text, e.g. "max_f1_injected")
  std::optional<double> spot_q;        ///< SPOT/DSPOT risk q, in (0, 1 - level)
  std::optional<double> spot_level;    ///< SPOT/DSPOT initial-threshold level, in [0, 1)
  std::optional<int64_t> spot_depth;   ///< DSPOT drift window (>= 1)
};

/// The parsed `rnnad.config` of a model file. Only the member of the file's kind is meaningful.
struct ModelConfig {
  int format_version = kModelFormatVersion;
  std::string kind;  ///< as written in the file
  ModelKind model_kind = ModelKind::Rnn;
  std::string producer;  ///< free text written by the exporter (informational)
  RnnConfig rnn;                       ///< kind "rnn"
  ReconstructionConfig reconstruction;  ///< kind "reconstruction"
  PredictionConfig prediction;          ///< kind "prediction"
  AttentionConfig attention;            ///< kind "attention"
  NormalizationConfig normalization;    ///< optional; method None when absent
  ScoringConfig scoring;                ///< optional; defaults when absent
  bool has_scoring = false;             ///< the file has a `scoring` object
  std::optional<ThresholdDefaults> threshold;  ///< the file's `threshold` object, when present
  /// Window length the model was built for (0 for kinds without one: rnn, stateful prediction).
  int64_t seq_len() const;
  /// Features per input row (input_size of the first recurrent module).
  int64_t input_size() const;
};

/// One float tensor of a loaded model: values upcast to F32, row-major, with the dtype the
/// file stored it in.
struct Weight {
  std::vector<int64_t> shape;
  std::vector<float> values;
  DType stored_dtype = DType::F32;
};

/// A validated, immutable model: config plus weights. Load once, share between engines.
class Model {
 public:
  /// Reads and validates a model file. Throws IoError, FormatError (message names the file and
  /// the offending tensor or config field), UnsupportedError (newer format, unknown kind).
  static std::shared_ptr<const Model> load(const std::filesystem::path& path);
  /// Same, from bytes already in memory; `source` names them in messages.
  static std::shared_ptr<const Model> parse(std::vector<unsigned char> bytes, std::string source);
  /// Same, from an already-validated container.
  static std::shared_ptr<const Model> from_container(const SafetensorsFile& file);

  const ModelConfig& config() const { return m_config; }
  const std::string& source() const { return m_source; }
  /// Tensor by full name; throws Error when absent.
  const Weight& weight(const std::string& name) const;
  const std::map<std::string, Weight>& weights() const { return m_weights; }
  /// Total number of weight elements.
  int64_t parameter_count() const;

 private:
  Model() = default;
  std::string m_source;
  ModelConfig m_config;
  std::map<std::string, Weight> m_weights;
};

/// Parses and checks an `rnnad.config` JSON text (as stored in a model file's metadata), without
/// tensors. Throws FormatError / UnsupportedError naming `source` and the field.
ModelConfig parse_model_config(const std::string& json_text, const std::string& source);

/// One line describing a config for messages and `rnnad inspect`, e.g.
/// "kind prediction, cell LSTM, input_size 25, hidden_size 80, num_layers 2, horizon 10, ...".
std::string config_summary(const ModelConfig& config);

/// Tensor names with their shapes, in PyTorch's state_dict order.
using TensorShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

/// The tensors a recurrent module with config `rnn` has.
TensorShapes expected_rnn_tensors(const RnnConfig& rnn);

/// The tensors a model of config `config` has: every module of its kind (F32/F16/BF16 weights)
/// and the F64 scoring statistics its scoring method needs (scoring.mean, scoring.precision).
TensorShapes expected_tensors(const ModelConfig& config);

/// The weight tensors only (expected_tensors without the scoring statistics).
TensorShapes expected_weight_tensors(const ModelConfig& config);

}  // namespace rnnad
