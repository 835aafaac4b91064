// Test support: builds safetensors containers and rnnad model files in memory, so tests can
// state weights by hand (field cases) or mutate valid files (fuzz).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "rnnad/model.h"

namespace rnnad::test {

/// One tensor as raw little-endian bytes with its safetensors dtype string.
struct RawTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;
};

RawTensor f32_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);
RawTensor f64_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<double>& values);

/// A safetensors file: 8-byte header length, JSON header (padded with spaces to a multiple of 8),
/// tensors laid out contiguously in the given order.
std::vector<unsigned char> build_safetensors(const std::vector<RawTensor>& tensors,
                                             const std::map<std::string, std::string>& metadata);

/// The `rnnad.config` JSON text of a kind-"rnn" model.
std::string rnn_config_json(const RnnConfig& config);

/// Weights keyed by full tensor name, PyTorch layouts.
using WeightMap = std::map<std::string, std::vector<float>>;

/// Uniform(-scale, scale) weights for every tensor `config` needs (deterministic in `seed`).
WeightMap random_rnn_weights(const RnnConfig& config, std::uint32_t seed, float scale);

/// Uniform(-scale, scale) F32 weights for every weight tensor of a model of any kind, from its
/// `rnnad.config` JSON text (deterministic in `seed`; no scoring statistics).
WeightMap random_model_weights(const std::string& config_json, std::uint32_t seed, float scale);

/// A kind-"rnn" model file holding `weights` (must match expected_rnn_tensors(config)).
std::vector<unsigned char> build_rnn_model(const RnnConfig& config, const WeightMap& weights);

/// A model file of any kind from its `rnnad.config` JSON text: `weights` (F32) and `statistics`
/// (F64, e.g. scoring.mean) must hold every tensor expected_tensors() lists for that config;
/// missing weights are filled with `fill`.
std::vector<unsigned char> build_model(const std::string& config_json, const WeightMap& weights,
                                       const std::map<std::string, std::vector<double>>& statistics = {},
                                       float fill = 0.0f);

/// Field case F29: a reconstruction model (LSTM encoder and decoder, hidden 4, window 5, reverse
/// decoding) whose output layer has weight 0 and bias `bias` [F], so it reconstructs every row as
/// `bias` whatever the window; `extras` is appended to its config object (e.g.
/// `, "scoring": {"method": "absolute"}`). The encoder's input weights are non-zero, so the
/// state moves. Returns the model file's bytes.
std::vector<unsigned char> constant_model_file(const std::vector<float>& bias, const std::string& extras,
                                               const std::map<std::string, std::vector<double>>& statistics = {});

/// constant_model_file(...) parsed into a Model named "constant-model".
std::shared_ptr<const Model> constant_model(const std::vector<float>& bias, const std::string& extras,
                                            const std::map<std::string, std::vector<double>>& statistics = {});

/// Parses build_rnn_model(...) into a Model.
std::shared_ptr<const Model> make_rnn_model(const RnnConfig& config, const WeightMap& weights,
                                            const std::string& source = "test-model");

}  // namespace rnnad::test
