// Loading and validating rnnad model files (docs/model_format.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rnnad/cell_type.h"
#include "rnnad/safetensors.h"

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

/// The parsed `rnnad.config` of a model file.
struct ModelConfig {
  int format_version = kModelFormatVersion;
  std::string kind;      ///< "rnn": a bare PyTorch recurrent module
  RnnConfig rnn;         ///< the recurrent module (kind "rnn")
  std::string producer;  ///< free text written by the exporter (informational)
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

/// The tensors (name -> shape) a recurrent module with config `rnn` has, in PyTorch's
/// state_dict order. Throws FormatError via the caller when config values are out of range.
std::vector<std::pair<std::string, std::vector<int64_t>>> expected_rnn_tensors(const RnnConfig& rnn);

}  // namespace rnnad
