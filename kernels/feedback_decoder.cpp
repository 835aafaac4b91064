// cuda::FeedbackDecoder (rnnad/cuda/feedback_decoder.h): the folded decoder on the persistent kernel.
#include "rnnad/cuda/feedback_decoder.h"

#include <stdexcept>

namespace rnnad::cuda {

FeedbackDecoder::FeedbackDecoder(const Context& ctx, const RnnDims& dims, const RnnParams& params, const float* w_out,
                                 const float* b_out, int64_t max_batch, int64_t max_steps, Strategy strategy)
    : m_ctx(ctx),
      m_dims(dims),
      m_strategy(strategy),
      m_device(persistent_device(ctx)),
      m_max_batch(max_batch),
      m_max_steps(max_steps) {
  if (!feedback_foldable(dims) || !params.weight_ih || !params.weight_hh || !w_out)
    throw std::invalid_argument(
        "cuda::FeedbackDecoder: one unidirectional layer with weights and an output head is "
        "required");
  const FoldedFeedback f = fold_feedback(dims.cell, dims.hidden_size, dims.input_size, params, w_out, b_out);
  ctx.activate();
  m_w_hh_t = upload(f.w_hh_t.data(), f.w_hh_t.size());
  m_b_ih = upload(f.b_ih.data(), f.b_ih.size());
  m_b_hh = upload(f.b_hh.data(), f.b_hh.size());
  m_out = DeviceBuffer(static_cast<std::size_t>(max_steps * max_batch * dims.hidden_size));
}

bool FeedbackDecoder::eligible(int64_t batch, int64_t steps) const {
  if (batch < 1 || batch > m_max_batch || steps < 1 || steps > m_max_steps) return false;
  switch (m_strategy) {
    case Strategy::Step:
    case Strategy::Gemm:
      return false;
    case Strategy::Persistent:
      return persistent_plan(folded_cell(m_dims.cell), static_cast<int>(m_dims.hidden_size), static_cast<int>(batch),
                             m_device)
          .has_value();
    case Strategy::Auto:
      break;
  }
  return steps >= 2 && m_wave.fits(m_ctx, m_device, folded_cell(m_dims.cell), m_dims.hidden_size, batch);
}

void FeedbackDecoder::run(int64_t steps, int64_t B, const float* h0, float* c, bool reverse) {
  PersistentRnnArgs a;
  a.gx = nullptr;  // no input: the feedback is folded into w_hh_t and b_ih
  a.w_hh_t = m_w_hh_t.data();
  a.b_ih = m_b_ih.data();
  a.b_hh = m_b_hh.data();
  a.h0 = h0;
  a.ld_h0 = static_cast<int>(m_dims.hidden_size);
  a.c = m_dims.cell == CellType::Lstm ? c : nullptr;  // GRU and RNN: no cell state
  a.out = m_out.data();
  a.ld_out = static_cast<int>(m_dims.hidden_size);
  a.seq_len = static_cast<int>(steps);
  a.batch = static_cast<int>(B);
  a.hidden = static_cast<int>(m_dims.hidden_size);
  a.cell = folded_cell(m_dims.cell);
  a.reverse = reverse;
  persistent_rnn(a, m_device, m_ctx.stream());
}

}  // namespace rnnad::cuda
