#include "runner.h"

#include "cpu_backend.h"
#include "graphs.h"
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

StackParams stack_params(const Model& m, const RnnConfig& c) {
  StackParams s;
  s.dims = RnnDims{c.mode, c.input_size, c.hidden_size, c.num_layers, c.proj_size, c.bidirectional};
  for (int64_t l = 0; l < c.num_layers; ++l) {
    for (int64_t d = 0; d < c.num_directions(); ++d) {
      RnnParams p;
      p.weight_ih = m.weight(c.param_name("weight_ih", l, d)).values.data();
      p.weight_hh = m.weight(c.param_name("weight_hh", l, d)).values.data();
      if (c.bias) {
        p.bias_ih = m.weight(c.param_name("bias_ih", l, d)).values.data();
        p.bias_hh = m.weight(c.param_name("bias_hh", l, d)).values.data();
      }
      if (c.proj_size > 0) p.weight_hr = m.weight(c.param_name("weight_hr", l, d)).values.data();
      s.params.push_back(p);
    }
  }
  return s;
}

AttentionWeights attention_weights(const Model& m) {
  return {m.weight("attention.query.weight").values.data(), m.weight("attention.key.weight").values.data(),
          m.weight("attention.key.bias").values.data(), m.weight("attention.v.weight").values.data()};
}

std::unique_ptr<Runner> make_cpu_runner(const Model& model, int64_t max_batch, int64_t max_seq_len,
                                        CpuKernels kernels, cpu::Team* team) {
  const auto kernel = kernels == CpuKernels::Reference ? cpu::RnnStack::Kernel::Eigen : cpu::RnnStack::Kernel::Auto;
  return make_graph(CpuBackend{kernel, team}, model, max_batch, max_seq_len);
}

}  // namespace rnnad::detail
