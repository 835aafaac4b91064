// Compile-time proof that cudnn_api.h's own declarations match cuDNN's header: built only when
// CMake finds cudnn.h (CUDNN_INCLUDE_DIR); it defines nothing.
#include <cudnn.h>

#include <type_traits>

#include "cudnn_api.h"

namespace rnnad::bench::cudnn {

static_assert(CUDNN_MAJOR == 9, "cudnn_api.h declares the cuDNN 9 API");
static_assert(std::is_same_v<Handle, cudnnHandle_t>);
static_assert(std::is_same_v<RnnDesc, cudnnRNNDescriptor_t>);
static_assert(std::is_same_v<DataDesc, cudnnRNNDataDescriptor_t>);
static_assert(std::is_same_v<TensorDesc, cudnnTensorDescriptor_t>);
static_assert(std::is_same_v<DropoutDesc, cudnnDropoutDescriptor_t>);
// The C enums are passed as int: same size, same values.
static_assert(sizeof(cudnnStatus_t) == sizeof(Status) && sizeof(cudnnRNNAlgo_t) == sizeof(int) &&
              sizeof(cudnnRNNMode_t) == sizeof(int) && sizeof(cudnnRNNBiasMode_t) == sizeof(int) &&
              sizeof(cudnnDirectionMode_t) == sizeof(int) && sizeof(cudnnRNNInputMode_t) == sizeof(int) &&
              sizeof(cudnnDataType_t) == sizeof(int) && sizeof(cudnnMathType_t) == sizeof(int) &&
              sizeof(cudnnRNNDataLayout_t) == sizeof(int) && sizeof(cudnnForwardMode_t) == sizeof(int));
static_assert(kStatusSuccess == CUDNN_STATUS_SUCCESS);
static_assert(kAlgoStandard == CUDNN_RNN_ALGO_STANDARD);
static_assert(kAlgoPersistStatic == CUDNN_RNN_ALGO_PERSIST_STATIC);
static_assert(kAlgoPersistDynamic == CUDNN_RNN_ALGO_PERSIST_DYNAMIC);
static_assert(kAlgoPersistStaticSmallH == CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H);
static_assert(kAlgoCount == CUDNN_RNN_ALGO_COUNT);
static_assert(kRnnRelu == CUDNN_RNN_RELU && kRnnTanh == CUDNN_RNN_TANH && kLstm == CUDNN_LSTM && kGru == CUDNN_GRU);
static_assert(kDoubleBias == CUDNN_RNN_DOUBLE_BIAS);
static_assert(kUnidirectional == CUDNN_UNIDIRECTIONAL);
static_assert(kLinearInput == CUDNN_LINEAR_INPUT);
static_assert(kDataFloat == CUDNN_DATA_FLOAT);
static_assert(kFmaMath == CUDNN_FMA_MATH);
static_assert(kSeqMajorUnpacked == CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_UNPACKED);
static_assert(kFwdInference == CUDNN_FWD_MODE_INFERENCE);
static_assert(kPaddedIoEnabled == CUDNN_RNN_PADDED_IO_ENABLED);

// Every entry point has cuDNN's signature once the enums are spelled as int: the header's
// function types, with each C enum parameter replaced by int, must equal Api's pointer types.
template <typename T>
struct IntOf {
  using type = std::conditional_t<std::is_enum_v<T>, int, T>;
};
template <typename T>
struct IntOf<T*> {
  using type = std::conditional_t<std::is_enum_v<T>, int*, T*>;
};
template <typename T>
using Int = typename IntOf<T>::type;
template <typename R, typename... A>
auto as_int_signature(R (*)(A...)) -> Int<R> (*)(Int<A>...);
#define RNNAD_SAME_SIGNATURE(name, member) \
  static_assert(std::is_same_v<decltype(as_int_signature(&name)), decltype(Api::member)>, #name)
RNNAD_SAME_SIGNATURE(cudnnGetVersion, GetVersion);
RNNAD_SAME_SIGNATURE(cudnnGetErrorString, GetErrorString);
RNNAD_SAME_SIGNATURE(cudnnCreate, Create);
RNNAD_SAME_SIGNATURE(cudnnDestroy, Destroy);
RNNAD_SAME_SIGNATURE(cudnnCreateTensorDescriptor, CreateTensorDescriptor);
RNNAD_SAME_SIGNATURE(cudnnDestroyTensorDescriptor, DestroyTensorDescriptor);
RNNAD_SAME_SIGNATURE(cudnnSetTensorNdDescriptor, SetTensorNdDescriptor);
RNNAD_SAME_SIGNATURE(cudnnCreateRNNDescriptor, CreateRNNDescriptor);
RNNAD_SAME_SIGNATURE(cudnnDestroyRNNDescriptor, DestroyRNNDescriptor);
RNNAD_SAME_SIGNATURE(cudnnSetRNNDescriptor_v8, SetRNNDescriptor_v8);
RNNAD_SAME_SIGNATURE(cudnnCreateRNNDataDescriptor, CreateRNNDataDescriptor);
RNNAD_SAME_SIGNATURE(cudnnDestroyRNNDataDescriptor, DestroyRNNDataDescriptor);
RNNAD_SAME_SIGNATURE(cudnnSetRNNDataDescriptor, SetRNNDataDescriptor);
RNNAD_SAME_SIGNATURE(cudnnBuildRNNDynamic, BuildRNNDynamic);
RNNAD_SAME_SIGNATURE(cudnnGetRNNWeightSpaceSize, GetRNNWeightSpaceSize);
RNNAD_SAME_SIGNATURE(cudnnGetRNNWeightParams, GetRNNWeightParams);
RNNAD_SAME_SIGNATURE(cudnnGetRNNTempSpaceSizes, GetRNNTempSpaceSizes);
RNNAD_SAME_SIGNATURE(cudnnRNNForward, RNNForward);
#undef RNNAD_SAME_SIGNATURE

}  // namespace rnnad::bench::cudnn
