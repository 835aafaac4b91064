#include "parallel_runner.h"

#include <algorithm>
#include <vector>

#include "../worker_pool.h"
#include "rnnad/cpu/rnn_stack.h"

namespace rnnad::detail {

namespace {

// dst [d0, b, d2] <- columns [b0, b0 + b) of src [d0, B, d2].
void gather(float* dst, const float* src, int64_t d0, int64_t B, int64_t d2, int64_t b0, int64_t b) {
  for (int64_t i = 0; i < d0; ++i) std::copy_n(src + (i * B + b0) * d2, b * d2, dst + i * b * d2);
}
// Columns [b0, b0 + b) of dst [d0, B, d2] <- src [d0, b, d2].
void scatter(float* dst, const float* src, int64_t d0, int64_t B, int64_t d2, int64_t b0, int64_t b) {
  for (int64_t i = 0; i < d0; ++i) std::copy_n(src + i * b * d2, b * d2, dst + (i * B + b0) * d2);
}

// Per-kind widths of the tensors a call moves (the middle dimension is the batch).
struct Widths {
  int64_t input = 0;        // I
  int64_t out = 0;          // rnn: D*H_out; reconstruction: I; prediction: P
  int64_t state_rows = 0;   // rnn: L*D; stateful prediction: L
  int64_t state_h = 0;      // rnn: H_out; prediction: H
  int64_t state_c = 0;      // LSTM: H
  int64_t macs_per_step = 0;  // multiply-adds per time step and batch row (parameter count)
  bool attention = false;
};

Widths widths_of(const Model& model) {
  const ModelConfig& mc = model.config();
  Widths w;
  w.input = mc.input_size();
  for (const auto& [name, weight] : model.weights()) {
    int64_t n = 1;
    for (int64_t d : weight.shape) n *= d;
    w.macs_per_step += n;
  }
  switch (mc.model_kind) {
    case ModelKind::Rnn: {
      const RnnConfig& c = mc.rnn;
      w.out = c.num_directions() * c.output_size();
      w.state_rows = c.num_layers * c.num_directions();
      w.state_h = c.output_size();
      w.state_c = c.mode == CellType::Lstm ? c.hidden_size : 0;
      break;
    }
    case ModelKind::Reconstruction:
    case ModelKind::Attention:
      w.out = w.input;
      w.attention = mc.model_kind == ModelKind::Attention;
      break;
    case ModelKind::Prediction: {
      const PredictionConfig& p = mc.prediction;
      w.out = p.prediction_size();
      w.state_rows = p.num_layers;
      w.state_h = p.hidden_size;
      w.state_c = p.cell == CellType::Lstm ? p.hidden_size : 0;
      break;
    }
  }
  return w;
}

// The pool lent to the full-size graph's stacks (cpu::Team) for calls that are not split by
// batch: open only while such a call runs, so a stack never asks the pool for threads while
// the pool runs batch slices.
class PoolTeam final : public cpu::Team {
 public:
  explicit PoolTeam(WorkerPool& pool) : m_pool(pool) {}
  int size() const override { return m_open ? m_pool.threads() : 1; }
  int capacity() const override { return m_pool.threads(); }
  void run(int n, void (*task)(void*, int), void* arg) override {
    m_used = std::max(m_used, n);
    m_pool.run(n, [&](int i) { task(arg, i); });
  }
  bool m_open = false;
  int m_used = 1;  // most threads a run() of the current call used

 private:
  WorkerPool& m_pool;
};

class ParallelCpuRunner final : public Runner {
 public:
  ParallelCpuRunner(const Model& model, int64_t max_batch, int64_t max_seq_len, int threads, CpuKernels kernels)
      : m_w(widths_of(model)), m_max_seq_len(max_seq_len), m_pool(threads), m_team(m_pool) {
    const int64_t slice = (max_batch + threads - 1) / threads, T = max_seq_len;
    m_full = make_cpu_runner(model, max_batch, max_seq_len, kernels, &m_team);
    // A bare stack on the tiled kernel splits its own calls over the team (tiles or hidden units,
    // no copies): it needs no batch slices, graph copies or gather buffers.
    m_stack_splits = model.config().model_kind == ModelKind::Rnn &&
                     cpu::RnnStack::uses_tiled(stack_params(model, model.config().rnn).dims,
                                               kernels == CpuKernels::Reference ? cpu::RnnStack::Kernel::Eigen
                                                                                : cpu::RnnStack::Kernel::Auto);
    for (int i = 0; i < (m_stack_splits ? 0 : threads); ++i) {
      Part p;
      if (i > 0) p.own = make_cpu_runner(model, slice, max_seq_len, kernels);
      auto sized = [](int64_t n) { return std::vector<float>(static_cast<std::size_t>(n)); };
      p.x = sized(T * slice * m_w.input);
      p.out = sized(T * slice * m_w.out);
      if (m_w.attention) p.attn = sized(T * slice * T);
      p.h_in = sized(m_w.state_rows * slice * m_w.state_h);
      p.h_out = sized(m_w.state_rows * slice * m_w.state_h);
      p.c_in = sized(m_w.state_rows * slice * m_w.state_c);
      p.c_out = sized(m_w.state_rows * slice * m_w.state_c);
      m_parts.push_back(std::move(p));
    }
  }

  void forward(int64_t T, int64_t B, const float* x, const float* h0, const float* c0, float* output, float* h_n,
               float* c_n) override {
    const int n = parts_for(T, B);
    if (n == 1) return m_full->forward(T, B, x, h0, c0, output, h_n, c_n);
    const Widths& w = m_w;
    m_pool.run(n, [&](int i) {
      Part& p = m_parts[static_cast<std::size_t>(i)];
      const auto [b0, b] = slice_of(i, n, B);
      gather(p.x.data(), x, T, B, w.input, b0, b);
      if (h0) gather(p.h_in.data(), h0, w.state_rows, B, w.state_h, b0, b);
      if (c0) gather(p.c_in.data(), c0, w.state_rows, B, w.state_c, b0, b);
      runner(i).forward(T, b, p.x.data(), h0 ? p.h_in.data() : nullptr, c0 ? p.c_in.data() : nullptr, p.out.data(),
                        p.h_out.data(), c_n ? p.c_out.data() : nullptr);
      scatter(output, p.out.data(), T, B, w.out, b0, b);
      scatter(h_n, p.h_out.data(), w.state_rows, B, w.state_h, b0, b);
      if (c_n) scatter(c_n, p.c_out.data(), w.state_rows, B, w.state_c, b0, b);
    });
  }

  void reconstruct(int64_t T, int64_t B, const float* x, float* recon, float* attn) override {
    const int n = parts_for(T, B);
    if (n == 1) return m_full->reconstruct(T, B, x, recon, attn);
    m_pool.run(n, [&](int i) {
      Part& p = m_parts[static_cast<std::size_t>(i)];
      const auto [b0, b] = slice_of(i, n, B);
      gather(p.x.data(), x, T, B, m_w.input, b0, b);
      runner(i).reconstruct(T, b, p.x.data(), p.out.data(), attn ? p.attn.data() : nullptr);
      scatter(recon, p.out.data(), T, B, m_w.out, b0, b);
      if (attn) scatter(attn, p.attn.data(), T, B, T, b0, b);
    });
  }

  void predict(int64_t T, int64_t B, const float* x, float* pred) override {
    const int n = parts_for(T, B);
    if (n == 1) return m_full->predict(T, B, x, pred);
    m_pool.run(n, [&](int i) {
      Part& p = m_parts[static_cast<std::size_t>(i)];
      const auto [b0, b] = slice_of(i, n, B);
      gather(p.x.data(), x, T, B, m_w.input, b0, b);
      runner(i).predict(T, b, p.x.data(), p.out.data());
      scatter(pred, p.out.data(), 1, B, m_w.out, b0, b);
    });
  }

  // The state of each slice stays in its part's buffers from one chunk of max_seq_len steps to
  // the next, as the single-thread graph carries it.
  void predict_stateful(int64_t N, int64_t B, const float* x, float* pred, float* h, float* c) override {
    const int n = parts_for(N, B);
    if (n == 1) return m_full->predict_stateful(N, B, x, pred, h, c);
    const Widths& w = m_w;
    m_pool.run(n, [&](int i) {
      Part& p = m_parts[static_cast<std::size_t>(i)];
      const auto [b0, b] = slice_of(i, n, B);
      float* hs = p.h_in.data();
      float* cs = w.state_c > 0 ? p.c_in.data() : nullptr;
      if (h) gather(hs, h, w.state_rows, B, w.state_h, b0, b);
      else std::fill_n(hs, w.state_rows * b * w.state_h, 0.0f);
      if (cs) {
        if (c) gather(cs, c, w.state_rows, B, w.state_c, b0, b);
        else std::fill_n(cs, w.state_rows * b * w.state_c, 0.0f);
      }
      for (int64_t start = 0; start < N;) {
        const int64_t steps = std::min(m_max_seq_len, N - start);
        gather(p.x.data(), x + start * B * w.input, steps, B, w.input, b0, b);
        runner(i).predict_stateful(steps, b, p.x.data(), p.out.data(), hs, cs);
        scatter(pred + start * B * w.out, p.out.data(), steps, B, w.out, b0, b);
        start += steps;
      }
      if (h) scatter(h, hs, w.state_rows, B, w.state_h, b0, b);
      if (c && cs) scatter(c, cs, w.state_rows, B, w.state_c, b0, b);
    });
  }

 private:
  struct Part {
    std::unique_ptr<Runner> own;  // null for part 0, which uses the full-size graph
    std::vector<float> x, out, attn, h_in, h_out, c_in, c_out;
  };

  int last_call_threads() const override { return std::max(m_last, m_team.m_used); }

  Runner& runner(int i) { return i == 0 ? *m_full : *m_parts[static_cast<std::size_t>(i)].own; }

  // Batch slices for a call of T steps and batch B: one unless the work pays for the hand-off.
  // A call left whole may lend the pool to its stacks instead (m_team): always for a stack that
  // splits itself when the work pays, and for batch 1 (the tiled kernel then splits only layers
  // large enough, tiled_recurrence.h).
  int parts_for(int64_t T, int64_t B) {
    const bool worth = B >= 2 && T * B * m_w.macs_per_step >= kMinParallelMacs;
    m_last = worth && !m_stack_splits ? static_cast<int>(std::min<int64_t>(B, m_pool.threads())) : 1;
    m_team.m_open = B == 1 || (worth && m_stack_splits);
    m_team.m_used = 1;
    return m_last;
  }
  // Slice i of n over B columns: the first B % n slices get one column more.
  static std::pair<int64_t, int64_t> slice_of(int i, int n, int64_t B) {
    const int64_t base = B / n, extra = B % n;
    const int64_t b = base + (i < extra ? 1 : 0);
    const int64_t b0 = i * base + std::min<int64_t>(i, extra);
    return {b0, b};
  }

  Widths m_w;
  bool m_stack_splits = false;
  int64_t m_max_seq_len;
  int m_last = 1;
  std::unique_ptr<Runner> m_full;
  std::vector<Part> m_parts;
  WorkerPool m_pool;
  PoolTeam m_team;  // after m_pool: refers to it
};

}  // namespace

std::unique_ptr<Runner> make_parallel_cpu_runner(const Model& model, int64_t max_batch, int64_t max_seq_len,
                                                 int threads, CpuKernels kernels) {
  return std::make_unique<ParallelCpuRunner>(model, max_batch, max_seq_len, threads, kernels);
}

}  // namespace rnnad::detail
