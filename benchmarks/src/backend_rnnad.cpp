#include "backend_rnnad.h"

#include <algorithm>

#include "bench_error.h"
#include "rnnad/engine.h"

namespace rnnad::bench {

namespace {

class RnnadInstance final : public Instance {
 public:
  RnnadInstance(const Workload& w, Device device, RnnadKernels kernels, int threads)
      : m_w(w),
        m_io(w),
        m_engine(w.model, EngineOptions{.device = device, .max_batch = w.B, .max_seq_len = w.T,
                                        .cuda_kernels = kernels.cuda, .cpu_kernels = kernels.cpu, .threads = threads}) {}

  void run() override {
    m_io.next_call();
    const Workload& w = m_w;
    const int64_t L = w.stack.num_layers, H = w.stack.hidden_size;
    const bool lstm = w.stack.mode == CellType::Lstm;
    float* out = m_io.out[0].data();
    switch (w.row.mode) {
      case Mode::Forward:
      case Mode::Step: {
        const bool step = w.row.mode == Mode::Step;
        const ConstTensor3 h0 = step ? ConstTensor3{m_io.h.data(), {L, w.B, H}} : ConstTensor3{};
        const ConstTensor3 c0 = step && lstm ? ConstTensor3{m_io.c.data(), {L, w.B, H}} : ConstTensor3{};
        m_engine.forward({w.input.data(), {w.T, w.B, w.I}}, h0, c0, {out, {w.T, w.B, H}}, {m_io.h_n(), {L, w.B, H}},
                         {lstm ? m_io.c_n() : nullptr, {L, w.B, H}});
        break;
      }
      case Mode::Windows: {
        const WindowOutputs o = m_engine.run_windows(w.input.data(), w.series_rows, w.stride, 0, w.B);
        std::copy_n(o.prediction.data, w.B * w.P, out);
        break;
      }
      case Mode::Reconstruct: m_engine.reconstruct({w.input.data(), {w.T, w.B, w.I}}, {out, {w.T, w.B, w.I}}); break;
    }
  }

  HostIO& io() override { return m_io; }
  std::string notes() const override { return m_engine.backend_name(); }

 private:
  const Workload& m_w;
  HostIO m_io;
  Engine m_engine;
};

class RnnadBackend final : public Backend {
 public:
  RnnadBackend(Device device, RnnadKernels kernels, int threads)
      : m_device(device), m_kernels(kernels), m_threads(device == Device::Cuda ? 1 : threads) {}
  std::string name() const override {
    if (m_device != Device::Cuda) return m_kernels.cpu == CpuKernels::Reference ? "rnnad-cpu-ref" : "rnnad-cpu";
    return m_kernels.cuda == CudaKernels::Step         ? "rnnad-cuda-step"
           : m_kernels.cuda == CudaKernels::Persistent ? "rnnad-cuda-persistent"
           : m_kernels.cuda == CudaKernels::Gemm       ? "rnnad-cuda-gemm"
                                                       : "rnnad-cuda";
  }
  bool by_default() const override {
    return m_kernels.cuda == CudaKernels::Auto && m_kernels.cpu == CpuKernels::Auto;
  }
  DeviceClass device_class() const override { return m_device == Device::Cuda ? DeviceClass::Gpu : DeviceClass::Cpu; }
  int threads() const override { return m_threads; }

  Probe probe() override {
    try {  // a tiny LSTM: the engine says what it runs on, or why it cannot
      const Workload w = make_workload(Row{"probe", "quick", "", Mode::Forward, CellType::Lstm, 2, 4, 1, 3, 1, 0});
      return {true, make_rnnad_instance(w, m_device, m_kernels, m_threads)->notes()};
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
  }

  std::unique_ptr<Instance> prepare(const Workload& w, const CheckFn&) override {
    try {
      return make_rnnad_instance(w, m_device, m_kernels, m_threads);
    } catch (const std::exception& e) {  // any refusal at engine creation: unavailable for this row
      throw NotApplicable(std::string("backend unavailable: ") + e.what());
    }
  }

 private:
  Device m_device;
  RnnadKernels m_kernels;
  int m_threads;
};

}  // namespace

std::unique_ptr<Instance> make_rnnad_instance(const Workload& w, Device device, RnnadKernels kernels, int threads) {
  return std::make_unique<RnnadInstance>(w, device, kernels, threads);
}

std::unique_ptr<Backend> make_rnnad_backend(Device device, RnnadKernels kernels, int threads) {
  return std::make_unique<RnnadBackend>(device, kernels, threads);
}

}  // namespace rnnad::bench
