// The part of the cuDNN 9 API that rnnad_bench calls, declared here so the benchmark builds
// without cudnn.h and loads cuDNN at run time (dlopen). Enum values are the documented ones
// (cudnn_graph.h, cudnn_ops.h, cudnn_adv.h of cuDNN 9); cudnn_api_check.cpp compares every one
// with cudnn.h wherever that header exists at build time. The opaque handle structs are declared
// at global scope with cuDNN's own names, so the pointer types are exactly cuDNN's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct cudnnContext;
struct cudnnRNNStruct;
struct cudnnRNNDataStruct;
struct cudnnTensorStruct;
struct cudnnDropoutStruct;

namespace rnnad::bench::cudnn {

using Handle = cudnnContext*;           ///< cudnnHandle_t
using RnnDesc = cudnnRNNStruct*;        ///< cudnnRNNDescriptor_t
using DataDesc = cudnnRNNDataStruct*;   ///< cudnnRNNDataDescriptor_t
using TensorDesc = cudnnTensorStruct*;  ///< cudnnTensorDescriptor_t
using DropoutDesc = cudnnDropoutStruct*;  ///< cudnnDropoutDescriptor_t
using Status = int;                     ///< cudnnStatus_t (a C enum: int-sized)

inline constexpr Status kStatusSuccess = 0;             // CUDNN_STATUS_SUCCESS
inline constexpr int kAlgoStandard = 0;                 // CUDNN_RNN_ALGO_STANDARD
inline constexpr int kAlgoPersistStatic = 1;            // CUDNN_RNN_ALGO_PERSIST_STATIC
inline constexpr int kAlgoPersistDynamic = 2;           // CUDNN_RNN_ALGO_PERSIST_DYNAMIC
inline constexpr int kAlgoPersistStaticSmallH = 3;      // CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H
inline constexpr int kAlgoCount = 4;                    // CUDNN_RNN_ALGO_COUNT
inline constexpr int kRnnRelu = 0;                      // CUDNN_RNN_RELU
inline constexpr int kRnnTanh = 1;                      // CUDNN_RNN_TANH
inline constexpr int kLstm = 2;                         // CUDNN_LSTM
inline constexpr int kGru = 3;                          // CUDNN_GRU (linear before reset, as PyTorch)
inline constexpr int kDoubleBias = 2;                   // CUDNN_RNN_DOUBLE_BIAS
inline constexpr int kUnidirectional = 0;               // CUDNN_UNIDIRECTIONAL
inline constexpr int kLinearInput = 0;                  // CUDNN_LINEAR_INPUT
inline constexpr int kDataFloat = 0;                    // CUDNN_DATA_FLOAT
inline constexpr int kFmaMath = 3;                      // CUDNN_FMA_MATH (no TF32)
inline constexpr int kSeqMajorUnpacked = 0;             // CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED
inline constexpr int kFwdInference = 0;                 // CUDNN_FWD_MODE_INFERENCE
inline constexpr std::uint32_t kPaddedIoEnabled = 1u;   // CUDNN_RNN_PADDED_IO_ENABLED

/// "STANDARD", "PERSIST_STATIC", "PERSIST_DYNAMIC" or "PERSIST_STATIC_SMALL_H".
const char* algo_name(int algo);

/// cuDNN entry points resolved from the loaded library (same signatures as cuDNN 9's, with the
/// C enums passed as int).
struct Api {
  std::string path;     ///< the libcudnn.so.9 that was loaded
  std::string origin;   ///< how it was found: "CUDNN_ROOT", "PyTorch's bundled copy", ...
  std::size_t version = 0;  ///< cudnnGetVersion(), e.g. 91900
  std::size_t (*GetVersion)() = nullptr;
  const char* (*GetErrorString)(Status) = nullptr;
  Status (*Create)(Handle*) = nullptr;
  Status (*Destroy)(Handle) = nullptr;
  Status (*CreateTensorDescriptor)(TensorDesc*) = nullptr;
  Status (*DestroyTensorDescriptor)(TensorDesc) = nullptr;
  Status (*SetTensorNdDescriptor)(TensorDesc, int dataType, int nbDims, const int dims[], const int strides[]) = nullptr;
  Status (*GetTensorNdDescriptor)(TensorDesc, int nbDimsRequested, int* dataType, int* nbDims, int dims[],
                                  int strides[]) = nullptr;
  Status (*CreateRNNDescriptor)(RnnDesc*) = nullptr;
  Status (*DestroyRNNDescriptor)(RnnDesc) = nullptr;
  Status (*SetRNNDescriptor_v8)(RnnDesc, int algo, int cellMode, int biasMode, int dirMode, int inputMode,
                                int dataType, int mathPrec, int mathType, std::int32_t inputSize,
                                std::int32_t hiddenSize, std::int32_t projSize, std::int32_t numLayers,
                                DropoutDesc, std::uint32_t auxFlags) = nullptr;
  Status (*CreateRNNDataDescriptor)(DataDesc*) = nullptr;
  Status (*DestroyRNNDataDescriptor)(DataDesc) = nullptr;
  Status (*SetRNNDataDescriptor)(DataDesc, int dataType, int layout, int maxSeqLength, int batchSize, int vectorSize,
                                 const int seqLengthArray[], void* paddingFill) = nullptr;
  Status (*BuildRNNDynamic)(Handle, RnnDesc, int miniBatch) = nullptr;
  Status (*GetRNNWeightSpaceSize)(Handle, RnnDesc, std::size_t*) = nullptr;
  Status (*GetRNNWeightParams)(Handle, RnnDesc, std::int32_t pseudoLayer, std::size_t weightSpaceSize,
                               const void* weightSpace, std::int32_t linLayerID, TensorDesc mDesc, void** mAddr,
                               TensorDesc bDesc, void** bAddr) = nullptr;
  Status (*GetRNNTempSpaceSizes)(Handle, RnnDesc, int fwdMode, DataDesc xDesc, std::size_t* workSpaceSize,
                                 std::size_t* reserveSpaceSize) = nullptr;
  Status (*RNNForward)(Handle, RnnDesc, int fwdMode, const std::int32_t devSeqLengths[], DataDesc xDesc, const void* x,
                       DataDesc yDesc, void* y, TensorDesc hDesc, const void* hx, void* hy, TensorDesc cDesc,
                       const void* cx, void* cy, std::size_t weightSpaceSize, const void* weightSpace,
                       std::size_t workSpaceSize, void* workSpace, std::size_t reserveSpaceSize,
                       void* reserveSpace) = nullptr;

  /// Throws BenchError "<call>: <cuDNN's message> (<status>)" unless `status` is success.
  void check(Status status, const char* call) const;
};

/// Loads cuDNN 9: $CUDNN_ROOT/lib or lib64, else the copy bundled with the PyTorch that `python3`
/// imports (pip packages nvidia-cudnn-*, or torch/lib), else libcudnn.so.9 from the system's
/// library path or /usr/local/cuda/lib64. Throws BenchError listing every place tried and why
/// it failed (not found, dlopen error, missing symbol, not version 9).
std::shared_ptr<const Api> load_cudnn();

}  // namespace rnnad::bench::cudnn
