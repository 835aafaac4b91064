// Kind "rnn": a bare PyTorch recurrent module.
#include "runners.h"

namespace rnnad::detail {

namespace {
class RnnRunner final : public Runner {
 public:
  RnnRunner(const Model& m, int64_t max_batch, int64_t max_seq_len)
      : m_stack(make_stack(m, m.config().rnn, max_batch, max_seq_len)) {}
  void forward(int64_t T, int64_t B, const float* x, const float* h0, const float* c0, float* output, float* h_n,
               float* c_n) override {
    m_stack.forward(T, B, x, h0, c0, output, h_n, c_n);
  }

 private:
  cpu::RnnStack m_stack;
};
}  // namespace

std::unique_ptr<Runner> make_rnn_runner(const Model& m, int64_t max_batch, int64_t max_seq_len) {
  return std::make_unique<RnnRunner>(m, max_batch, max_seq_len);
}

}  // namespace rnnad::detail
