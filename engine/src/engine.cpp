// Engine: device selection, argument validation, dispatch to the backend (docs/architecture.md).
#include "rnnad/engine.h"

#include <Eigen/Core>
#include <vector>

#include "rnnad/cpu/rnn_stack.h"
#include "rnnad/error.h"

namespace rnnad {

namespace {

std::string shape3(const std::array<int64_t, 3>& s) { return shape_string({s[0], s[1], s[2]}); }

void check_shape(const char* name, const std::array<int64_t, 3>& got, const std::array<int64_t, 3>& want,
                 const char* meaning) {
  if (got != want)
    throw ShapeError(std::string(name) + ": expected shape " + shape3(want) + " (" + meaning + "), got " + shape3(got));
}

cpu::RnnDims to_dims(const RnnConfig& c) {
  return cpu::RnnDims{c.mode, c.input_size, c.hidden_size, c.num_layers, c.proj_size, c.bidirectional};
}

std::vector<cpu::RnnParams> to_params(const Model& m) {
  const RnnConfig& c = m.config().rnn;
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
  return params;
}

}  // namespace

struct Engine::Impl {
  std::shared_ptr<const Model> model;
  EngineOptions options;
  Device device = Device::Cpu;
  std::string notice;
  cpu::RnnStack stack;

  Impl(std::shared_ptr<const Model> m, EngineOptions o)
      : model(std::move(m)),
        options(o),
        stack(to_dims(model->config().rnn), to_params(*model), o.max_batch, o.max_seq_len) {}
};

static EngineOptions checked(const std::shared_ptr<const Model>& model, EngineOptions o) {
  if (!model) throw Error("Engine: model is null");
  if (o.max_batch < 1) throw ShapeError("EngineOptions::max_batch must be >= 1 (got " + std::to_string(o.max_batch) + ")");
  if (o.max_seq_len < 1)
    throw ShapeError("EngineOptions::max_seq_len must be >= 1 (got " + std::to_string(o.max_seq_len) + ")");
  if (o.device == Device::Cuda) {
    if (!cuda_built())
      throw UnsupportedError("device cuda requested, but this rnnad was built without CUDA (nvcc was not found at configure time)");
    if (cuda_device_count() == 0) throw UnsupportedError("device cuda requested, but no CUDA device is available");
    throw UnsupportedError("device cuda requested: the CUDA recurrent backend is not available in this version of rnnad");
  }
  return o;
}

Engine::Engine(std::shared_ptr<const Model> model, EngineOptions options) {
  options = checked(model, options);
  m_impl = std::make_unique<Impl>(std::move(model), options);
  m_impl->device = Device::Cpu;
  if (options.device == Device::Auto && cuda_device_count() > 0)
    m_impl->notice = "rnnad: a CUDA device is present but this version runs recurrent models on the CPU only";
}

Engine::~Engine() = default;

const Model& Engine::model() const { return *m_impl->model; }
const EngineOptions& Engine::options() const { return m_impl->options; }
Device Engine::device() const { return m_impl->device; }
const std::string& Engine::notice() const { return m_impl->notice; }

std::string Engine::backend_name() const {
  return "cpu (Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION) + ")";
}

void Engine::forward(const ConstTensor3& input, const ConstTensor3& h0, const ConstTensor3& c0, const Tensor3& output,
                     const Tensor3& h_n, const Tensor3& c_n) {
  const RnnConfig& c = m_impl->model->config().rnn;
  const int64_t T = input.shape[0], B = input.shape[1];
  const int64_t LD = c.num_layers * c.num_directions(), H = c.hidden_size, H_out = c.output_size();
  const bool lstm = c.mode == CellType::Lstm;
  const char* h_meaning = c.proj_size > 0 ? "num_layers*num_directions, batch, proj_size"
                                          : "num_layers*num_directions, batch, hidden_size";
  if (!input.data) throw ShapeError("input: no data given");
  if (T < 1) throw ShapeError("sequence length must be >= 1 (got " + std::to_string(T) + ")");
  if (B < 1) throw ShapeError("batch must be >= 1 (got " + std::to_string(B) + ")");
  if (input.shape[2] != c.input_size)
    check_shape("input", input.shape, {T, B, c.input_size}, "seq_len, batch, input_size");
  if (T > m_impl->options.max_seq_len)
    throw ShapeError("sequence length " + std::to_string(T) + " exceeds the engine's max_seq_len " +
                     std::to_string(m_impl->options.max_seq_len) + " (set EngineOptions::max_seq_len)");
  if (B > m_impl->options.max_batch)
    throw ShapeError("batch " + std::to_string(B) + " exceeds the engine's max_batch " +
                     std::to_string(m_impl->options.max_batch) + " (set EngineOptions::max_batch)");
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
  m_impl->stack.forward(T, B, input.data, h0.data, c0.data, output.data, h_n.data, c_n.data);
}

}  // namespace rnnad
