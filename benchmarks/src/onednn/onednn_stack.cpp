#include "onednn_stack.h"

#include <algorithm>
#include <array>

#include "../bench_error.h"

namespace rnnad::bench::onednn {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// oneDNN gate g holds PyTorch gate kGruGate[g]: oneDNN's GRU order is (update, reset, candidate),
// PyTorch's (reset, update, new). LSTM orders agree (input, forget, cell, output).
constexpr std::array<int64_t, 3> kGruGate = {1, 0, 2};

// PyTorch W [G*H, K] (gate-major rows) -> ldigo [1, 1, K, G, H] in oneDNN's gate order.
void to_ldigo(const std::vector<float>& w, int64_t gates, int64_t H, int64_t K, bool gru, float* dst) {
  for (int64_t k = 0; k < K; ++k)
    for (int64_t g = 0; g < gates; ++g) {
      const int64_t pg = gru ? kGruGate[static_cast<std::size_t>(g)] : g;
      for (int64_t o = 0; o < H; ++o) dst[(k * gates + g) * H + o] = w[static_cast<std::size_t>((pg * H + o) * K + k)];
    }
}

memory user_memory(const dnnl::engine& engine, const memory::dims& dims, tag t) {
  return memory({dims, dt::f32, t}, engine);
}

float* data(const memory& m) { return static_cast<float*>(m.get_data_handle()); }

}  // namespace

Stack::Stack(const dnnl::engine& engine, dnnl::stream& stream, const RnnConfig& config, const Model& model, int64_t T,
             int64_t B, WeightLayout layout, bool initial_state)
    : m_config(config),
      m_lstm(config.mode == CellType::Lstm),
      m_initial_state(initial_state),
      m_T(T),
      m_B(B),
      m_H(config.hidden_size),
      m_layout(layout) {
  if (config.mode != CellType::Lstm && config.mode != CellType::Gru)
    throw NotApplicable("the oneDNN peer runs LSTM and GRU stacks only");
  if (config.bidirectional || config.proj_size > 0)
    throw NotApplicable("the oneDNN peer runs unidirectional stacks without proj_size");
  for (int64_t l = 0; l < config.num_layers; ++l) m_layers.push_back(make_layer(engine, stream, model, l));
  if (config.num_layers > 1)
    for (auto& m : m_mid) m.resize(static_cast<std::size_t>(T * B * m_H));
}

Stack::Layer Stack::make_layer(const dnnl::engine& engine, dnnl::stream& stream, const Model& model, int64_t l) {
  const RnnConfig& c = m_config;
  const int64_t H = m_H, K = c.layer_input_size(l), G = m_lstm ? 4 : 3;
  const int64_t bias_gates = m_lstm ? G : G + 1;  // lbr_gru: one more, the b_hn inside r * (.)
  const bool gru = !m_lstm;
  // User weights in the plain layouts, PyTorch's values.
  memory w_layer = user_memory(engine, {1, 1, K, G, H}, tag::ldigo);
  memory w_iter = user_memory(engine, {1, 1, H, G, H}, tag::ldigo);
  memory bias = user_memory(engine, {1, 1, bias_gates, H}, tag::ldgo);
  to_ldigo(model.weight(c.param_name("weight_ih", l, 0)).values, G, H, K, gru, data(w_layer));
  to_ldigo(model.weight(c.param_name("weight_hh", l, 0)).values, G, H, H, gru, data(w_iter));
  float* b = data(bias);
  std::fill_n(b, bias_gates * H, 0.0f);
  if (c.bias) {
    const auto& b_ih = model.weight(c.param_name("bias_ih", l, 0)).values;
    const auto& b_hh = model.weight(c.param_name("bias_hh", l, 0)).values;
    auto at = [&](const std::vector<float>& v, int64_t pg, int64_t o) { return v[static_cast<std::size_t>(pg * H + o)]; };
    for (int64_t o = 0; o < H; ++o) {
      if (m_lstm) {
        for (int64_t g = 0; g < 4; ++g) b[g * H + o] = at(b_ih, g, o) + at(b_hh, g, o);
      } else {  // lbr_gru: update and reset biases summed; candidate: b_in, then b_hn (inside r * (.))
        for (int64_t g = 0; g < 2; ++g) b[g * H + o] = at(b_ih, kGruGate[static_cast<std::size_t>(g)], o) +
                                                        at(b_hh, kGruGate[static_cast<std::size_t>(g)], o);
        b[2 * H + o] = at(b_ih, 2, o);
        b[3 * H + o] = at(b_hh, 2, o);
      }
    }
  }

  const memory::desc src_md({m_T, m_B, K}, dt::f32, tag::tnc), dst_md({m_T, m_B, H}, dt::f32, tag::tnc);
  const memory::desc state_md({1, 1, m_B, H}, dt::f32, tag::ldnc), none;
  const memory::desc in_state = m_initial_state ? state_md : none;
  const tag wtag = m_layout == WeightLayout::Plain ? tag::ldigo : tag::any;
  const memory::desc wl_md({1, 1, K, G, H}, dt::f32, wtag), wi_md({1, 1, H, G, H}, dt::f32, wtag);
  const auto prop = dnnl::prop_kind::forward_inference;
  const auto dir = dnnl::rnn_direction::unidirectional_left2right;

  Layer layer;
  memory::desc wl_wanted, wi_wanted;
  if (m_lstm) {
    const dnnl::lstm_forward::primitive_desc pd(
        dnnl::lstm_forward::desc(prop, dir, src_md, in_state, in_state, wl_md, wi_md, none, none, bias.get_desc(),
                                 dst_md, state_md, state_md),
        engine);
    layer.primitive = dnnl::lstm_forward(pd);
    wl_wanted = pd.weights_layer_desc();
    wi_wanted = pd.weights_iter_desc();
  } else {
    const dnnl::lbr_gru_forward::primitive_desc pd(
        dnnl::lbr_gru_forward::desc(prop, dir, src_md, in_state, wl_md, wi_md, bias.get_desc(), dst_md, state_md),
        engine);
    layer.primitive = dnnl::lbr_gru_forward(pd);
    wl_wanted = pd.weights_layer_desc();
    wi_wanted = pd.weights_iter_desc();
  }
  if (l == 0) m_format = format_name(wl_wanted, "ldigo");
  // Activations live in the caller's buffers: memories without storage, pointed at them per call.
  layer.src = memory(src_md, engine, nullptr);
  layer.dst = memory(dst_md, engine, nullptr);
  layer.dst_iter = memory(state_md, engine, nullptr);
  layer.args = {{DNNL_ARG_SRC_LAYER, layer.src},
                {DNNL_ARG_WEIGHTS_LAYER, in_layout(w_layer, wl_wanted, engine, stream)},
                {DNNL_ARG_WEIGHTS_ITER, in_layout(w_iter, wi_wanted, engine, stream)},
                {DNNL_ARG_BIAS, bias},
                {DNNL_ARG_DST_LAYER, layer.dst},
                {DNNL_ARG_DST_ITER, layer.dst_iter}};
  if (m_initial_state) {
    layer.src_iter = memory(state_md, engine, nullptr);
    layer.args[DNNL_ARG_SRC_ITER] = layer.src_iter;
  }
  if (m_lstm) {
    layer.dst_iter_c = memory(state_md, engine, nullptr);
    layer.args[DNNL_ARG_DST_ITER_C] = layer.dst_iter_c;
    if (m_initial_state) {
      layer.src_iter_c = memory(state_md, engine, nullptr);
      layer.args[DNNL_ARG_SRC_ITER_C] = layer.src_iter_c;
    }
  }
  return layer;
}

void Stack::forward(dnnl::stream& stream, const float* x, float* y, const float* h0, const float* c0, float* h_n,
                    float* c_n) {
  const auto L = static_cast<int64_t>(m_layers.size());
  const int64_t state = m_B * m_H;
  auto ptr = [](const float* p) { return const_cast<float*>(p); };  // oneDNN never writes a source
  for (int64_t l = 0; l < L; ++l) {
    Layer& layer = m_layers[static_cast<std::size_t>(l)];
    layer.src.set_data_handle(l == 0 ? ptr(x) : m_mid[(l - 1) % 2].data());
    layer.dst.set_data_handle(l == L - 1 ? y : m_mid[l % 2].data());
    layer.dst_iter.set_data_handle(h_n + l * state);
    if (m_initial_state) layer.src_iter.set_data_handle(ptr(h0) + l * state);
    if (m_lstm) {
      layer.dst_iter_c.set_data_handle(c_n + l * state);
      if (m_initial_state) layer.src_iter_c.set_data_handle(ptr(c0) + l * state);
    }
    layer.primitive.execute(stream, layer.args);
  }
}

}  // namespace rnnad::bench::onednn
