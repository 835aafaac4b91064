// Engine: device selection, argument validation, dispatch to the per-kind runner
// (docs/architecture.md).
#include "rnnad/engine.h"

#include <Eigen/Core>
#include <algorithm>
#include <thread>
#include <vector>

#include "models/parallel_runner.h"
#include "models/runner.h"
#include "rnnad/error.h"

namespace rnnad {

namespace {

std::string shape3(const std::array<int64_t, 3>& s) { return shape_string({s[0], s[1], s[2]}); }

void check_shape(const char* name, const std::array<int64_t, 3>& got, const std::array<int64_t, 3>& want,
                 const char* meaning) {
  if (got != want)
    throw ShapeError(std::string(name) + ": expected shape " + shape3(want) + " (" + meaning + "), got " + shape3(got));
}

EngineOptions checked(const std::shared_ptr<const Model>& model, EngineOptions o) {
  if (!model) throw Error("Engine: model is null");
  if (o.max_batch < 1)
    throw ShapeError("EngineOptions::max_batch must be >= 1 (got " + std::to_string(o.max_batch) + ")");
  if (o.max_seq_len < 1)
    throw ShapeError("EngineOptions::max_seq_len must be >= 1 (got " + std::to_string(o.max_seq_len) + ")");
  if (o.threads < 0)
    throw Error("EngineOptions::threads must be >= 0 (0 = all hardware threads; got " + std::to_string(o.threads) +
                ")");
  if (o.threads == 0) o.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (o.device == Device::Cuda) {
    if (!cuda_built())
      throw UnsupportedError(
          "device cuda requested, but this rnnad was built without CUDA (nvcc was not found at configure time)");
    const int count = cuda_device_count();
    if (count == 0) throw UnsupportedError("device cuda requested, but no CUDA device is available");
    if (o.device_index < 0 || o.device_index >= count)
      throw UnsupportedError("device cuda:" + std::to_string(o.device_index) + " requested, but there are " +
                             std::to_string(count) + " CUDA device(s) (cuda:0 .. cuda:" + std::to_string(count - 1) +
                             ")");
  }
  return o;
}

std::string cpu_backend_name(int threads, CpuKernels kernels) {
  return std::string("cpu (") + (kernels == CpuKernels::Reference ? "reference kernels, " : "tiled LSTM/GRU kernel, ") +
         "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION) + ", " + std::to_string(threads) +
         (threads == 1 ? " thread)" : " threads)");
}

// The runner for o.device (never Auto on return: `device` says which ran), its backend name, and
// for Device::Auto a notice saying which device runs and why.
std::unique_ptr<detail::Runner> make_runner(const Model& model, const EngineOptions& o, Device& device,
                                            std::string& backend, std::string& notice) {
  std::string why_cpu = "no CUDA device found";
  if (!cuda_built()) why_cpu = "this rnnad was built without CUDA";
#ifdef RNNAD_HAVE_CUDA
  if (o.device == Device::Cuda || (o.device == Device::Auto && cuda_device_count() > 0)) {
    try {
      std::string gpu;
      auto runner = detail::make_cuda_runner(model, o.device_index, o.cuda_stream, static_cast<int>(o.cuda_kernels),
                                             o.max_batch, o.max_seq_len, &gpu);
      device = Device::Cuda;
      static const char* const kKernels[] = {
          "auto: persistent where W_hh fits on chip, else a GEMM per step for large batches, else per-step fused cells",
          "per-step fused cells", "persistent", "a GEMM and a gate launch per step"};
      backend =
          "cuda (" + gpu + "; recurrence: " + kKernels[static_cast<int>(o.cuda_kernels)] + "; cuBLAS projections)";
      if (o.device == Device::Auto) notice = "rnnad: device auto: running on " + backend;
      return runner;
    } catch (const UnsupportedError& e) {
      if (o.device == Device::Cuda) throw UnsupportedError(model.source() + ": " + e.what());
      why_cpu = e.what();
    } catch (const CudaError& e) {
      if (o.device == Device::Cuda) throw;
      why_cpu = std::string("the CUDA device could not be used: ") + e.what();
    }
  }
#endif
  device = Device::Cpu;
  backend = cpu_backend_name(o.threads, o.cpu_kernels);
  if (o.device == Device::Auto) notice = "rnnad: device auto: running on the CPU (" + why_cpu + ")";
  if (o.threads > 1)
    return detail::make_parallel_cpu_runner(model, o.max_batch, o.max_seq_len, o.threads, o.cpu_kernels);
  return detail::make_cpu_runner(model, o.max_batch, o.max_seq_len, o.cpu_kernels);
}

}  // namespace

struct Engine::Impl {
  std::shared_ptr<const Model> model;
  EngineOptions options;
  Device device = Device::Cpu;
  std::string notice, backend;
  std::unique_ptr<detail::Runner> runner;
  // run_windows() buffers (windowed kinds only): [T, max_batch, I] in (the host gather, where the
  // runner does not gather itself), outputs likewise.
  std::vector<float> window_in, window_recon, window_attn, window_pred;

  // Checks a [seq_len, batch, features] input against the engine's limits; returns {T, B}.
  std::array<int64_t, 2> check_input(const char* name, const ConstTensor3& x, int64_t features, bool limit_seq) const {
    if (!x.data) throw ShapeError(std::string(name) + ": no data given");
    const int64_t T = x.shape[0], B = x.shape[1];
    if (T < 1) throw ShapeError("sequence length must be >= 1 (got " + std::to_string(T) + ")");
    if (B < 1) throw ShapeError("batch must be >= 1 (got " + std::to_string(B) + ")");
    if (x.shape[2] != features) check_shape(name, x.shape, {T, B, features}, "seq_len, batch, input_size");
    if (limit_seq && T > options.max_seq_len)
      throw ShapeError("sequence length " + std::to_string(T) + " exceeds the engine's max_seq_len " +
                       std::to_string(options.max_seq_len) + " (set EngineOptions::max_seq_len)");
    if (B > options.max_batch)
      throw ShapeError("batch " + std::to_string(B) + " exceeds the engine's max_batch " +
                       std::to_string(options.max_batch) + " (set EngineOptions::max_batch)");
    return {T, B};
  }

  void require_kind(const char* method, std::initializer_list<ModelKind> kinds) const {
    for (ModelKind k : kinds)
      if (model->config().model_kind == k) return;
    throw UnsupportedError(model->source() + ": " + method + " is not available for a model of kind " +
                           model->config().kind);
  }
};

Engine::Engine(std::shared_ptr<const Model> model, EngineOptions options) {
  options = checked(model, options);
  m_impl = std::make_unique<Impl>();
  m_impl->model = std::move(model);
  m_impl->options = options;
  m_impl->runner = make_runner(*m_impl->model, options, m_impl->device, m_impl->backend, m_impl->notice);
  const ModelConfig& mc = m_impl->model->config();
  const int64_t T = mc.seq_len(), I = mc.input_size(), B = options.max_batch;
  if (T > 0 && T <= options.max_seq_len) {
    auto sized = [](int64_t n) { return std::vector<float>(static_cast<std::size_t>(n)); };
    m_impl->window_in = sized(T * B * I);
    if (mc.model_kind == ModelKind::Prediction)
      m_impl->window_pred = sized(B * mc.prediction.prediction_size());
    else
      m_impl->window_recon = sized(T * B * I);
    if (mc.model_kind == ModelKind::Attention) m_impl->window_attn = sized(T * B * T);
  }
}

Engine::~Engine() = default;

const Model& Engine::model() const { return *m_impl->model; }

detail::Runner& detail::runner_of(Engine& engine) { return *engine.m_impl->runner; }
const EngineOptions& Engine::options() const { return m_impl->options; }
Device Engine::device() const { return m_impl->device; }
const std::string& Engine::notice() const { return m_impl->notice; }

std::string Engine::backend_name() const { return m_impl->backend; }
int Engine::last_call_threads() const { return m_impl->runner->last_call_threads(); }

int64_t Engine::window_count(int64_t rows, int64_t stride) const {
  const ModelConfig& mc = m_impl->model->config();
  const int64_t T = mc.seq_len();
  if (T == 0)
    throw UnsupportedError(m_impl->model->source() + ": a " + mc.kind + " model (" + config_summary(mc) +
                           ") has no window");
  if (stride < 1) throw ShapeError("stride must be >= 1 (got " + std::to_string(stride) + ")");
  if (rows < T)
    throw ShapeError("series has " + std::to_string(rows) + " rows, the model's window needs " + std::to_string(T));
  return (rows - T) / stride + 1;
}

WindowOutputs Engine::run_windows(const float* series, int64_t rows, int64_t stride, int64_t first, int64_t count) {
  const int64_t windows = window_count(rows, stride);
  const ModelConfig& mc = m_impl->model->config();
  const int64_t T = mc.seq_len(), I = mc.input_size();
  if (!series) throw ShapeError("series: no data given");
  if (T > m_impl->options.max_seq_len)
    throw ShapeError("the model's window " + std::to_string(T) + " exceeds the engine's max_seq_len " +
                     std::to_string(m_impl->options.max_seq_len));
  if (count < 1 || count > m_impl->options.max_batch || first < 0 || first + count > windows)
    throw ShapeError("windows [" + std::to_string(first) + ", " + std::to_string(first + count) + ") are outside [0, " +
                     std::to_string(windows) + ") or more than max_batch " + std::to_string(m_impl->options.max_batch));
  WindowOutputs out;
  out.first_window = first;
  out.count = count;
  if (mc.model_kind == ModelKind::Prediction) {
    out.prediction = {m_impl->window_pred.data(), {1, count, mc.prediction.prediction_size()}};
  } else {
    out.reconstruction = {m_impl->window_recon.data(), {T, count, I}};
    if (mc.model_kind == ModelKind::Attention) out.attention = {m_impl->window_attn.data(), {T, count, T}};
  }
  // The runner's own gather (the GPU's: the rows go up once), else here: window w's step t is
  // series row (first + w) * stride + t.
  if (m_impl->runner->run_windows(T, count, stride, series + first * stride * I, out.reconstruction.data,
                                  out.attention.data, out.prediction.data))
    return out;
  float* in = m_impl->window_in.data();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t w = 0; w < count; ++w)
      std::copy_n(series + ((first + w) * stride + t) * I, I, in + (t * count + w) * I);
  const ConstTensor3 x{in, {T, count, I}};
  if (mc.model_kind == ModelKind::Prediction)
    predict(x, out.prediction);
  else
    reconstruct(x, out.reconstruction, out.attention);
  return out;
}

void Engine::forward(const ConstTensor3& input, const ConstTensor3& h0, const ConstTensor3& c0, const Tensor3& output,
                     const Tensor3& h_n, const Tensor3& c_n) {
  m_impl->require_kind("forward()", {ModelKind::Rnn});
  const RnnConfig& c = m_impl->model->config().rnn;
  const auto [T, B] = m_impl->check_input("input", input, c.input_size, true);
  const int64_t LD = c.num_layers * c.num_directions(), H = c.hidden_size, H_out = c.output_size();
  const bool lstm = c.mode == CellType::Lstm;
  const char* h_meaning =
      c.proj_size > 0 ? "num_layers*num_directions, batch, proj_size" : "num_layers*num_directions, batch, hidden_size";
  if (h0.data) check_shape("h0", h0.shape, {LD, B, H_out}, h_meaning);
  if (c0.data) {
    if (!lstm) throw ShapeError(std::string("c0: given, but mode ") + cell_type_name(c.mode) + " has no cell state");
    check_shape("c0", c0.shape, {LD, B, H}, "num_layers*num_directions, batch, hidden_size");
  }
  if (!output.data) throw ShapeError("output: no buffer given");
  check_shape("output", output.shape, {T, B, c.num_directions() * H_out}, "seq_len, batch, num_directions*hidden_size");
  if (!h_n.data) throw ShapeError("h_n: no buffer given");
  check_shape("h_n", h_n.shape, {LD, B, H_out}, h_meaning);
  if (c_n.data) {
    if (!lstm) throw ShapeError(std::string("c_n: given, but mode ") + cell_type_name(c.mode) + " has no cell state");
    check_shape("c_n", c_n.shape, {LD, B, H}, "num_layers*num_directions, batch, hidden_size");
  }
  m_impl->runner->forward(T, B, input.data, h0.data, c0.data, output.data, h_n.data, c_n.data);
}

void Engine::reconstruct(const ConstTensor3& windows, const Tensor3& reconstruction, const Tensor3& attention) {
  m_impl->require_kind("reconstruct()", {ModelKind::Reconstruction, ModelKind::Attention});
  const int64_t I = m_impl->model->config().input_size();
  const auto [T, B] = m_impl->check_input("windows", windows, I, true);
  if (!reconstruction.data) throw ShapeError("reconstruction: no buffer given");
  check_shape("reconstruction", reconstruction.shape, {T, B, I}, "seq_len, batch, input_size");
  if (attention.data) {
    if (m_impl->model->config().model_kind != ModelKind::Attention)
      throw ShapeError("attention: given, but a " + m_impl->model->config().kind + " model has no attention weights");
    check_shape("attention", attention.shape, {T, B, T}, "seq_len, batch, seq_len");
  }
  m_impl->runner->reconstruct(T, B, windows.data, reconstruction.data, attention.data);
}

void Engine::predict(const ConstTensor3& windows, const Tensor3& prediction) {
  m_impl->require_kind("predict()", {ModelKind::Prediction});
  const PredictionConfig& p = m_impl->model->config().prediction;
  if (p.state != PredictionConfig::State::Windowed)
    throw UnsupportedError(m_impl->model->source() +
                           ": predict() needs a windowed forecaster; this one is stateful "
                           "(use predict_stateful())");
  const auto [T, B] = m_impl->check_input("windows", windows, p.input_size, true);
  if (!prediction.data) throw ShapeError("prediction: no buffer given");
  check_shape("prediction", prediction.shape, {1, B, p.prediction_size()}, "1, batch, horizon*K*targets");
  m_impl->runner->predict(T, B, windows.data, prediction.data);
}

void Engine::predict_stateful(const ConstTensor3& series, const Tensor3& prediction, const Tensor3& h,
                              const Tensor3& c) {
  m_impl->require_kind("predict_stateful()", {ModelKind::Prediction});
  const PredictionConfig& p = m_impl->model->config().prediction;
  if (p.state != PredictionConfig::State::Stateful)
    throw UnsupportedError(m_impl->model->source() +
                           ": predict_stateful() needs a stateful forecaster; this one is "
                           "windowed (use predict())");
  const auto [N, B] = m_impl->check_input("series", series, p.input_size, false);
  if (!prediction.data) throw ShapeError("prediction: no buffer given");
  check_shape("prediction", prediction.shape, {N, B, p.prediction_size()}, "steps, batch, horizon*K*targets");
  const std::array<int64_t, 3> state{p.num_layers, B, p.hidden_size};
  if (h.data) check_shape("h", h.shape, state, "num_layers, batch, hidden_size");
  if (c.data) {
    if (p.cell != CellType::Lstm) throw ShapeError("c: given, but a GRU has no cell state");
    check_shape("c", c.shape, state, "num_layers, batch, hidden_size");
  }
  m_impl->runner->predict_stateful(N, B, series.data, prediction.data, h.data, c.data);
}

}  // namespace rnnad
