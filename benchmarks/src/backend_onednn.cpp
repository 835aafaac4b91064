#include "backend_onednn.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include "bench_error.h"
#include "onednn/onednn_linear.h"
#include "onednn/onednn_stack.h"

namespace rnnad::bench {

namespace {

using onednn::Linear;
using onednn::Stack;
using onednn::WeightLayout;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::size_t n(int64_t v) { return static_cast<std::size_t>(v); }

// The engine and stream every instance of a run shares.
struct Context {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

// One row on oneDNN with one weight layout: the same work as rnnad's call (backend_rnnad.cpp).
class OnednnInstance final : public Instance {
 public:
  OnednnInstance(Context& ctx, const Workload& w, WeightLayout layout) : m_ctx(ctx), m_w(w), m_io(w) {
    const auto t0 = Clock::now();
    const int64_t T = w.T, B = w.B, I = w.I, L = w.stack.num_layers, H = w.stack.hidden_size;
    const Model& model = *w.model;
    const bool step = w.row.mode == Mode::Step;
    m_stack.emplace(ctx.engine, ctx.stream, w.stack, model, T, B, layout, step);
    if (w.row.mode == Mode::Windows) {
      m_head.emplace(ctx.engine, ctx.stream, model, "head", B, layout);
      m_x.resize(n(T * B * I));
    } else if (w.row.mode == Mode::Reconstruct) {
      m_decoder.emplace(ctx.engine, ctx.stream, w.decoder, model, 1, B, layout, true);
      m_head.emplace(ctx.engine, ctx.stream, model, "output", B, layout);
    }
    if (w.row.mode == Mode::Windows || w.row.mode == Mode::Reconstruct) {
      m_y.resize(n(T * B * H));
      for (int k = 0; k < 2; ++k) {
        m_h[k].resize(n(L * B * H));
        m_c[k].resize(n(L * B * H));
      }
    }
    m_setup_ms = ms_since(t0);
  }

  void run() override {
    m_io.next_call();
    const Workload& w = m_w;
    const int64_t T = w.T, B = w.B, I = w.I, L = w.stack.num_layers, H = w.stack.hidden_size;
    dnnl::stream& s = m_ctx.stream;
    float* out = m_io.out[0].data();
    switch (w.row.mode) {
      case Mode::Forward: m_stack->forward(s, w.input.data(), out, nullptr, nullptr, m_io.h_n(), m_io.c_n()); break;
      case Mode::Step:
        m_stack->forward(s, w.input.data(), out, m_io.h.data(), m_io.c.data(), m_io.h_n(), m_io.c_n());
        break;
      case Mode::Windows:  // gather B windows (stride w.stride) time-major, the stack, the head on the last step
        for (int64_t t = 0; t < T; ++t)
          for (int64_t b = 0; b < B; ++b)
            std::copy_n(w.input.begin() + (b * w.stride + t) * I, I, m_x.begin() + (t * B + b) * I);
        m_stack->forward(s, m_x.data(), m_y.data(), nullptr, nullptr, m_h[0].data(), m_c[0].data());
        m_head->forward(s, m_y.data() + (T - 1) * B * H, out);
        break;
      case Mode::Reconstruct: {  // docs/models.md, decode "reverse": as rnnad and the cuDNN backend
        m_stack->forward(s, w.input.data(), m_y.data(), nullptr, nullptr, m_h[0].data(), m_c[0].data());
        m_head->forward(s, m_h[0].data() + (L - 1) * B * H, out + (T - 1) * B * I);
        int cur = 0;
        for (int64_t i = T - 1; i >= 1; --i, cur ^= 1) {
          m_decoder->forward(s, out + i * B * I, m_y.data(), m_h[cur].data(), m_c[cur].data(), m_h[cur ^ 1].data(),
                             m_c[cur ^ 1].data());
          m_head->forward(s, m_y.data(), out + (i - 1) * B * I);
        }
        break;
      }
    }
    s.wait();
  }

  HostIO& io() override { return m_io; }
  std::string notes() const override { return m_notes; }
  double setup_ms() const override { return m_setup_ms; }
  /// The layout oneDNN holds the first layer's input weights in.
  const std::string& weights_format() const { return m_stack->weights_format(); }
  void set_notes(std::string notes) { m_notes = std::move(notes); }

 private:
  Context& m_ctx;
  const Workload& m_w;
  HostIO m_io;
  std::optional<Stack> m_stack, m_decoder;
  std::optional<Linear> m_head;
  std::vector<float> m_x, m_y, m_h[2], m_c[2];
  double m_setup_ms = 0;
  std::string m_notes;
};

// The fastest of a few calls after one warm-up (at least 3 calls or 200 ms), for the layout choice.
double quick_time_ms(Instance& inst) {
  inst.run();
  double best = 1e300, spent = 0;
  for (int k = 0; k < 3 || (spent < 200 && k < 20); ++k) {
    const auto t0 = Clock::now();
    inst.run();
    const double ms = ms_since(t0);
    best = std::min(best, ms);
    spent += ms;
    if (spent > 200 && k >= 2) break;
  }
  return best;
}

std::string format_ms_short(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ms < 1 ? "%.1f µs" : "%.3g ms", ms < 1 ? ms * 1000 : ms);
  return buf;
}

const char* isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_avx2: return "AVX2";
    case dnnl_cpu_isa_avx512_core: return "AVX-512";
    case dnnl_cpu_isa_avx512_core_vnni: return "AVX-512 VNNI";
    case dnnl_cpu_isa_avx512_core_bf16: return "AVX-512 BF16";
    case dnnl_cpu_isa_avx512_core_amx: return "AVX-512 + AMX";
    default: return "other ISA";
  }
}

class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(const BackendOptions& options) : m_threads(options.threads) {}
  std::string name() const override { return "onednn"; }
  DeviceClass device_class() const override { return DeviceClass::Cpu; }
  int threads() const override { return m_threads; }

  Probe probe() override {
    try {
      omp_set_num_threads(m_threads);  // oneDNN's threads; rnnad's engine does not use OpenMP
      m_ctx.emplace();
      const dnnl_version_t* v = dnnl_version();
      return {true, "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                        std::to_string(v->patch) + " (" + isa_name(dnnl_get_effective_cpu_isa()) + "), " +
                        std::to_string(m_threads) + " OpenMP thread" + (m_threads == 1 ? "" : "s") +
                        "; fp32 inference; lstm_forward / lbr_gru_forward, inner-product heads; "
                        "weights in the faster of the plain and oneDNN's own layout per row"};
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
  }

  // Both layouts are built, checked and timed briefly; the faster one that passed is built again
  // (a fresh instance: Step rows start from the workload's state) and returned. When neither
  // passed, the plain one is returned and the harness's own check reports the failure.
  std::unique_ptr<Instance> prepare(const Workload& w, const CheckFn& check) override {
    WeightLayout best = WeightLayout::Plain;
    double best_ms = 0;
    std::string tried;
    for (WeightLayout layout : {WeightLayout::Plain, WeightLayout::Any}) {
      OnednnInstance inst(*m_ctx, w, layout);
      const bool ok = check(inst).ok;
      const double ms = ok ? quick_time_ms(inst) : 0;
      tried += std::string(tried.empty() ? "" : ", ") + onednn::layout_name(layout) + " (" + inst.weights_format() +
               ") " + (ok ? format_ms_short(ms) : "failed its check");
      if (ok && (best_ms == 0 || ms < best_ms)) {
        best = layout;
        best_ms = ms;
      }
    }
    auto inst = std::make_unique<OnednnInstance>(*m_ctx, w, best);
    inst->set_notes(std::string("weights ") + onednn::layout_name(best) + " won: " + tried);
    return inst;
  }

 private:
  int m_threads;
  std::optional<Context> m_ctx;
};

}  // namespace

std::unique_ptr<Backend> make_onednn_backend(const BackendOptions& options) {
  return std::make_unique<OnednnBackend>(options);
}

}  // namespace rnnad::bench
