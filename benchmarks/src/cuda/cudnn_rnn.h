// One recurrent stack of an rnnad model set up in cuDNN 9 for fixed T and B (CUDA builds only):
// descriptors per performance.md §1.1/§1.3 (fp32 data and math, CUDNN_FMA_MATH, DOUBLE_BIAS,
// SEQ_MAJOR_UNPACKED with PADDED_IO, unidirectional, linear input), weights copied from the model
// through cudnnGetRNNWeightParams.
#pragma once

#include <cstdint>
#include <memory>

#include "cudnn_api.h"
#include "gpu_runtime.h"
#include "rnnad/model.h"

namespace rnnad::bench {

/// A cuDNN descriptor owned like a unique_ptr: destroyed with its cudnnDestroy*() function.
template <typename S>
struct CudnnDestroy {
  cudnn::Status (*destroy)(S*) = nullptr;
  void operator()(S* p) const {
    if (p && destroy) destroy(p);
  }
};
template <typename S>
using CudnnOwned = std::unique_ptr<S, CudnnDestroy<S>>;

/// Creates a descriptor with `create` (checked) that `destroy` releases.
template <typename S>
CudnnOwned<S> cudnn_make(const cudnn::Api& api, cudnn::Status (*create)(S**), cudnn::Status (*destroy)(S*),
                         const char* what) {
  S* raw = nullptr;
  api.check(create(&raw), what);
  return CudnnOwned<S>(raw, CudnnDestroy<S>{destroy});
}

/// cudnnRNNForward (inference) of one stack with algorithm `algo`.
class CudnnRnn {
 public:
  /// Sets up `config`'s stack of `model` for calls of T steps and B sequences. Throws
  /// NotApplicable for stacks cuDNN's API cannot express the same way (bidirectional,
  /// proj_size, no bias) and BenchError for cuDNN or CUDA failures (e.g. the algorithm does not
  /// support the shape: "cudnnBuildRNNDynamic: CUDNN_STATUS_NOT_SUPPORTED (3000)").
  CudnnRnn(const cudnn::Api& api, cudnn::Handle handle, const RnnConfig& config, const Model& model, int algo,
           int64_t T, int64_t B);

  /// Queues one forward on the default stream. Device pointers: x [T, B, I], y [T, B, H];
  /// hx, cx [L, B, H] or null (zero state); hy, cy [L, B, H] or null (not wanted); c*: LSTM only.
  void forward(const float* x, float* y, const float* hx, float* hy, const float* cx, float* cy) const;

  std::size_t weight_bytes() const { return m_weights.bytes(); }
  std::size_t workspace_bytes() const { return m_work.bytes(); }

 private:
  void copy_weights(const RnnConfig& config, const Model& model);

  const cudnn::Api& m_api;
  cudnn::Handle m_handle;
  CudnnOwned<cudnnRNNStruct> m_rnn;
  CudnnOwned<cudnnRNNDataStruct> m_x, m_y;
  CudnnOwned<cudnnTensorStruct> m_h, m_c;
  DeviceBuffer<unsigned char> m_weights, m_work;
  DeviceBuffer<std::int32_t> m_seq_lengths;
};

}  // namespace rnnad::bench
