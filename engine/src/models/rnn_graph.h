// Kind "rnn": a bare PyTorch recurrent module (internal; backend interface in cpu_backend.h).
#pragma once

#include "runner.h"

namespace rnnad::detail {

template <class Be>
class RnnGraph final : public Runner {
 public:
  RnnGraph(const Be& be, const Model& m, int64_t max_batch, int64_t max_seq_len)
      : m_stack(be.stack(m, m.config().rnn, max_batch, max_seq_len)) {}
  void forward(int64_t T, int64_t B, const float* x, const float* h0, const float* c0, float* output, float* h_n,
               float* c_n) override {
    m_stack.forward(T, B, x, h0, c0, output, h_n, c_n);
  }

 private:
  typename Be::Stack m_stack;
};

}  // namespace rnnad::detail
