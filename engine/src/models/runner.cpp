#include "runner.h"

#include "rnnad/error.h"

namespace rnnad::detail {

namespace {
[[noreturn]] void unsupported(const char* what) {
  throw UnsupportedError(std::string(what) + " is not available for this model kind");
}
}  // namespace

void Runner::forward(int64_t, int64_t, const float*, const float*, const float*, float*, float*, float*) {
  unsupported("forward()");
}
void Runner::reconstruct(int64_t, int64_t, const float*, float*, float*) { unsupported("reconstruct()"); }
void Runner::predict(int64_t, int64_t, const float*, float*) { unsupported("predict()"); }
void Runner::predict_stateful(int64_t, int64_t, const float*, float*, float*, float*) {
  unsupported("predict_stateful()");
}

cpu::RnnStack make_stack(const Model& m, const RnnConfig& c, int64_t max_batch, int64_t max_seq_len) {
  std::vector<cpu::RnnParams> params;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    for (int64_t d = 0; d < c.num_directions(); ++d) {
      cpu::RnnParams p;
      p.weight_ih = m.weight(c.param_name("weight_ih", l, d)).values.data();
      p.weight_hh = m.weight(c.param_name("weight_hh", l, d)).values.data();
      if (c.bias) {
        p.bias_ih = m.weight(c.param_name("bias_ih", l, d)).values.data();
        p.bias_hh = m.weight(c.param_name("bias_hh", l, d)).values.data();
      }
      if (c.proj_size > 0) p.weight_hr = m.weight(c.param_name("weight_hr", l, d)).values.data();
      params.push_back(p);
    }
  }
  const cpu::RnnDims dims{c.mode, c.input_size, c.hidden_size, c.num_layers, c.proj_size, c.bidirectional};
  return cpu::RnnStack(dims, std::move(params), max_batch, max_seq_len);
}

cpu::Linear make_linear(const Model& m, const std::string& name, bool bias, int64_t max_rows) {
  const Weight& w = m.weight(name + ".weight");
  return cpu::Linear(w.values.data(), bias ? m.weight(name + ".bias").values.data() : nullptr, w.shape[0], w.shape[1],
                     max_rows);
}

}  // namespace rnnad::detail

#include "runners.h"

namespace rnnad::detail {

std::unique_ptr<Runner> make_cpu_runner(const Model& model, int64_t max_batch, int64_t max_seq_len) {
  switch (model.config().model_kind) {
    case ModelKind::Rnn: return make_rnn_runner(model, max_batch, max_seq_len);
    case ModelKind::Reconstruction: return make_reconstruction_runner(model, max_batch, max_seq_len);
    case ModelKind::Prediction: return make_prediction_runner(model, max_batch, max_seq_len);
    case ModelKind::Attention: return make_attention_runner(model, max_batch, max_seq_len);
  }
  throw UnsupportedError("unknown model kind");
}

}  // namespace rnnad::detail
