// A unidirectional LSTM or GRU stack of an rnnad model run by oneDNN's RNN primitives in fp32
// inference mode: lstm_forward, and lbr_gru_forward for GRU (oneDNN's "linear before reset" GRU is
// PyTorch's nn.GRU; its plain gru_forward is the other, reset-before variant). One primitive per
// layer (a oneDNN primitive stacks layers only when every layer's input width equals H), input
// projection included.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "onednn_common.h"
#include "rnnad/model.h"

namespace rnnad::bench::onednn {

/// The stack `config` of `model`, set up for calls of T steps on B sequences (time-major).
class Stack {
 public:
  /// Builds the primitives and puts the weights in `layout`. `initial_state`: calls pass h0/c0
  /// (else every call starts from zero). Throws NotApplicable for RNN_TANH/RELU, bidirectional or
  /// projected stacks; dnnl::error when oneDNN refuses.
  Stack(const dnnl::engine& engine, dnnl::stream& stream, const RnnConfig& config, const Model& model, int64_t T,
        int64_t B, WeightLayout layout, bool initial_state);

  /// One call: x [T, B, I] -> y [T, B, H] (last layer), h_n / c_n [L, B, H]. h0 / c0 [L, B, H] are
  /// read only when built with initial_state. c0 and c_n are ignored for GRU. Runs on `stream`;
  /// does not wait.
  void forward(dnnl::stream& stream, const float* x, float* y, const float* h0, const float* c0, float* h_n,
               float* c_n);

  /// The layout oneDNN's primitive holds the layer-0 input weights in ("ldigo", "rnn_packed", ...).
  const std::string& weights_format() const { return m_format; }

 private:
  struct Layer {
    dnnl::primitive primitive;
    dnnl::memory src, src_iter, src_iter_c, dst, dst_iter, dst_iter_c;
    std::unordered_map<int, dnnl::memory> args;
  };
  Layer make_layer(const dnnl::engine& engine, dnnl::stream& stream, const Model& model, int64_t layer);

  RnnConfig m_config;
  bool m_lstm = true, m_initial_state = false;
  int64_t m_T = 0, m_B = 0, m_H = 0;
  WeightLayout m_layout;
  std::string m_format;
  std::vector<Layer> m_layers;
  std::vector<float> m_mid[2];  ///< outputs of the layers below the last, [T, B, H]
};

}  // namespace rnnad::bench::onednn
