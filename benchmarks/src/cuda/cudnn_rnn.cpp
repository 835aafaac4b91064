#include "cudnn_rnn.h"

#include <string>
#include <vector>

#include "../bench_error.h"

namespace rnnad::bench {

namespace {

int cell_mode(CellType c) {
  switch (c) {
    case CellType::Lstm: return cudnn::kLstm;
    case CellType::Gru: return cudnn::kGru;
    case CellType::RnnTanh: return cudnn::kRnnTanh;
    case CellType::RnnRelu: return cudnn::kRnnRelu;
  }
  return -1;
}

int as_int(int64_t v, const char* what) {
  if (v < 1 || v > (int64_t{1} << 30)) throw NotApplicable(std::string("cuDNN: ") + what + " " + std::to_string(v) + " out of range");
  return static_cast<int>(v);
}

}  // namespace

CudnnRnn::CudnnRnn(const cudnn::Api& api, cudnn::Handle handle, const RnnConfig& config, const Model& model, int algo,
                   int64_t T, int64_t B)
    : m_api(api), m_handle(handle) {
  if (config.bidirectional || config.proj_size > 0 || !config.bias)
    throw NotApplicable("cudnn backend: only unidirectional stacks with biases and no proj_size are set up");
  const int I = as_int(config.input_size, "input_size"), H = as_int(config.hidden_size, "hidden_size"),
            L = as_int(config.num_layers, "num_layers"), t = as_int(T, "seq_len"), b = as_int(B, "batch");
  m_rnn = cudnn_make(api, api.CreateRNNDescriptor, api.DestroyRNNDescriptor, "cudnnCreateRNNDescriptor");
  api.check(api.SetRNNDescriptor_v8(m_rnn.get(), algo, cell_mode(config.mode), cudnn::kDoubleBias, cudnn::kUnidirectional,
                                    cudnn::kLinearInput, cudnn::kDataFloat, cudnn::kDataFloat, cudnn::kFmaMath, I, H, H, L,
                                    nullptr, cudnn::kPaddedIoEnabled),
            "cudnnSetRNNDescriptor_v8");
  const std::vector<int> lengths(static_cast<std::size_t>(b), t);
  float padding = 0.0f;
  m_x = cudnn_make(api, api.CreateRNNDataDescriptor, api.DestroyRNNDataDescriptor, "cudnnCreateRNNDataDescriptor");
  m_y = cudnn_make(api, api.CreateRNNDataDescriptor, api.DestroyRNNDataDescriptor, "cudnnCreateRNNDataDescriptor");
  api.check(api.SetRNNDataDescriptor(m_x.get(), cudnn::kDataFloat, cudnn::kSeqMajorUnpacked, t, b, I, lengths.data(),
                                     &padding),
            "cudnnSetRNNDataDescriptor (x)");
  api.check(api.SetRNNDataDescriptor(m_y.get(), cudnn::kDataFloat, cudnn::kSeqMajorUnpacked, t, b, H, lengths.data(),
                                     &padding),
            "cudnnSetRNNDataDescriptor (y)");
  const int dims[3] = {L, b, H}, strides[3] = {b * H, H, 1};
  for (CudnnOwned<cudnnTensorStruct>* d : {&m_h, &m_c}) {
    *d = cudnn_make(api, api.CreateTensorDescriptor, api.DestroyTensorDescriptor, "cudnnCreateTensorDescriptor");
    api.check(api.SetTensorNdDescriptor(d->get(), cudnn::kDataFloat, 3, dims, strides), "cudnnSetTensorNdDescriptor (h, c)");
  }
  if (algo == cudnn::kAlgoPersistDynamic) api.check(api.BuildRNNDynamic(handle, m_rnn.get(), b), "cudnnBuildRNNDynamic");
  std::size_t weight_bytes = 0, work_bytes = 0, reserve_bytes = 0;
  api.check(api.GetRNNWeightSpaceSize(handle, m_rnn.get(), &weight_bytes), "cudnnGetRNNWeightSpaceSize");
  m_weights = DeviceBuffer<unsigned char>(weight_bytes);
  copy_weights(config, model);
  api.check(api.GetRNNTempSpaceSizes(handle, m_rnn.get(), cudnn::kFwdInference, m_x.get(), &work_bytes, &reserve_bytes),
            "cudnnGetRNNTempSpaceSizes");
  m_work = DeviceBuffer<unsigned char>(work_bytes);
  const std::vector<std::int32_t> device_lengths(static_cast<std::size_t>(b), t);
  m_seq_lengths = DeviceBuffer<std::int32_t>(device_lengths.size());
  cuda_check(cudaMemcpy(m_seq_lengths.get(), device_lengths.data(), m_seq_lengths.bytes(), cudaMemcpyHostToDevice),
             "cudaMemcpy (sequence lengths)");
}

// linLayerID order (cuDNN API docs; performance.md §1.1): LSTM 0-3 input-side i, f, g, o and 4-7
// the recurrent side; GRU 0-2 input-side r, z, n and 3-5 recurrent; PyTorch stacks its gate row
// blocks in the same order, so gate g of weight_ih_l{k} is rows [g*H, (g+1)*H).
void CudnnRnn::copy_weights(const RnnConfig& config, const Model& model) {
  const int64_t H = config.hidden_size, gates = config.gate_size() / H;
  const auto m_desc = cudnn_make(m_api, m_api.CreateTensorDescriptor, m_api.DestroyTensorDescriptor,
                                 "cudnnCreateTensorDescriptor");
  const auto b_desc = cudnn_make(m_api, m_api.CreateTensorDescriptor, m_api.DestroyTensorDescriptor,
                                 "cudnnCreateTensorDescriptor");
  auto count = [&](cudnn::TensorDesc d) {
    int type = 0, nb = 0, dims[8] = {}, strides[8] = {};
    m_api.check(m_api.GetTensorNdDescriptor(d, 8, &type, &nb, dims, strides), "cudnnGetTensorNdDescriptor");
    int64_t n = 1;
    for (int i = 0; i < nb; ++i) n *= dims[i];
    return n;
  };
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    const int64_t in = config.layer_input_size(layer);
    const auto& w_ih = model.weight(config.param_name("weight_ih", layer, 0)).values;
    const auto& w_hh = model.weight(config.param_name("weight_hh", layer, 0)).values;
    const auto& b_ih = model.weight(config.param_name("bias_ih", layer, 0)).values;
    const auto& b_hh = model.weight(config.param_name("bias_hh", layer, 0)).values;
    for (int64_t id = 0; id < 2 * gates; ++id) {
      const bool recurrent = id >= gates;
      const int64_t g = id % gates, cols = recurrent ? H : in;
      void *m_addr = nullptr, *b_addr = nullptr;
      m_api.check(m_api.GetRNNWeightParams(m_handle, m_rnn.get(), static_cast<std::int32_t>(layer), m_weights.bytes(),
                                           m_weights.get(), static_cast<std::int32_t>(id), m_desc.get(), &m_addr,
                                           b_desc.get(), &b_addr),
                  "cudnnGetRNNWeightParams");
      if (!m_addr || !b_addr || count(m_desc.get()) != H * cols || count(b_desc.get()) != H)
        throw BenchError("cudnnGetRNNWeightParams: layer " + std::to_string(layer) + " linLayerID " + std::to_string(id) +
                         ": unexpected matrix/bias shape (" + std::to_string(count(m_desc.get())) + " / " +
                         std::to_string(count(b_desc.get())) + " elements, want " + std::to_string(H * cols) + " / " +
                         std::to_string(H) + ")");
      const auto& w = recurrent ? w_hh : w_ih;
      const auto& bias = recurrent ? b_hh : b_ih;
      copy_to_device(static_cast<float*>(m_addr), w.data() + g * H * cols, static_cast<std::size_t>(H * cols));
      copy_to_device(static_cast<float*>(b_addr), bias.data() + g * H, static_cast<std::size_t>(H));
    }
  }
}

void CudnnRnn::forward(const float* x, float* y, const float* hx, float* hy, const float* cx, float* cy) const {
  m_api.check(m_api.RNNForward(m_handle, m_rnn.get(), cudnn::kFwdInference, m_seq_lengths.get(), m_x.get(), x, m_y.get(), y,
                               m_h.get(), hx, hy, m_c.get(), cx, cy, m_weights.bytes(), m_weights.get(), m_work.bytes(), m_work.get(), 0, nullptr),
              "cudnnRNNForward");
}

}  // namespace rnnad::bench
