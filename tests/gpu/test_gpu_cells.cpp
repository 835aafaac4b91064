// The fused LSTM and GRU step kernels on a real GPU, through the production launchers
// (rnnad::cuda::lstm_cell_step / gru_cell_step), against the Eigen path: the same cases and
// driver as the CPU harness (tests/harness/cell_case.h), with the device buffers carrying the
// same guard canaries. Own main: without a usable device it prints one line and exits 77, which
// CTest reports as "Skipped" (SKIP_RETURN_CODE, tests/gpu/CMakeLists.txt).
#define CATCH_CONFIG_RUNNER
#include <cuda_runtime.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "cell_case.h"
#include "rnnad/cuda/cell_kernels.h"
#include "rnnad/device.h"
#include "rnnad/error.h"

using namespace rnnad;
using rnnad::test::CellCase;
using rnnad::test::GuardedBuffer;
using rnnad::test::StepBuffers;

namespace {

#define GPU_REQUIRE(call)                                                                   \
  do {                                                                                      \
    const cudaError_t gpu_status_ = (call);                                                 \
    if (gpu_status_ != cudaSuccess) FAIL(#call << ": " << cudaGetErrorString(gpu_status_)); \
  } while (0)

// A device copy of a GuardedBuffer, guards included; data() is the payload's device address.
class DeviceMirror {
 public:
  explicit DeviceMirror(GuardedBuffer& host) : m_host(host), m_bytes(host.storage().size() * sizeof(float)) {
    GPU_REQUIRE(cudaMalloc(&m_base, m_bytes));
    GPU_REQUIRE(cudaMemcpy(m_base, host.storage().data(), m_bytes, cudaMemcpyHostToDevice));
  }
  ~DeviceMirror() { cudaFree(m_base); }
  DeviceMirror(const DeviceMirror&) = delete;
  DeviceMirror& operator=(const DeviceMirror&) = delete;

  float* data() { return static_cast<float*>(m_base) + GuardedBuffer::kGuard; }
  float* data_or_null(bool present) { return present ? data() : nullptr; }
  void download() { GPU_REQUIRE(cudaMemcpy(m_host.storage().data(), m_base, m_bytes, cudaMemcpyDeviceToHost)); }

 private:
  GuardedBuffer& m_host;
  std::size_t m_bytes;
  void* m_base = nullptr;
};

// One step on the device: upload every buffer whole, launch, download every buffer whole (so
// run_sequence checks the guards and pad columns of what the device wrote).
void gpu_step(CellType cell, StepBuffers& io) {
  DeviceMirror gx(io.gx), w(io.w_hh_t), bih(io.b_ih), bhh(io.b_hh), hp(io.h_prev), ho(io.h_out), c(io.c);
  if (cell == CellType::Lstm) {
    cuda::LstmCellStepArgs a;
    a.gx = gx.data();
    a.w_hh_t = w.data();
    a.b_ih = bih.data_or_null(io.bias);
    a.b_hh = bhh.data_or_null(io.bias);
    a.h_prev = hp.data();
    a.c_prev = c.data();
    a.h_out = ho.data();
    a.c_out = c.data();
    a.batch = io.batch;
    a.hidden = io.hidden;
    a.ld_h_prev = a.ld_h_out = io.ld;
    cuda::lstm_cell_step(a);
  } else if (cell == CellType::Gru) {
    cuda::GruCellStepArgs a;
    a.gx = gx.data();
    a.w_hh_t = w.data();
    a.b_ih = bih.data_or_null(io.bias);
    a.b_hh = bhh.data_or_null(io.bias);
    a.h_prev = hp.data();
    a.h_out = ho.data();
    a.batch = io.batch;
    a.hidden = io.hidden;
    a.ld_h_prev = a.ld_h_out = io.ld;
    cuda::gru_cell_step(a);
  } else {
    cuda::RnnCellStepArgs a;
    a.gx = gx.data();
    a.w_hh_t = w.data();
    a.b_ih = bih.data_or_null(io.bias);
    a.b_hh = bhh.data_or_null(io.bias);
    a.h_prev = hp.data();
    a.h_out = ho.data();
    a.batch = io.batch;
    a.hidden = io.hidden;
    a.ld_h_prev = a.ld_h_out = io.ld;
    a.relu = cell == CellType::RnnRelu;
    cuda::rnn_cell_step(a);
  }
  GPU_REQUIRE(cudaDeviceSynchronize());
  for (DeviceMirror* m : {&gx, &w, &bih, &bhh, &hp, &ho, &c}) m->download();
}

void check_case(const CellCase& c) {
  INFO(test::describe(c));
  const test::CellData data = test::make_cell_data(c);
  const test::SequenceResult ref = test::reference_sequence(c, data);
  const test::SequenceResult got = test::run_sequence(c, data, [&](StepBuffers& io, int) { gpu_step(c.cell, io); });
  CHECK(got.damage == "");
  CHECK(test::compare(got.output, ref.output, "output") == "");
  CHECK(test::compare(got.h_n, ref.h_n, "h_n") == "");
  CHECK(test::compare(got.c_n, ref.c_n, "c_n") == "");
}

}  // namespace

TEST_CASE("gpu: fused LSTM and GRU steps match the Eigen path on the issue's grid", "[gpu][cells]") {
  for (const CellCase& c : test::issue_grid()) check_case(c);
}

TEST_CASE("gpu: strided rows, no bias, wide tiles, saturation", "[gpu][cells]") {
  for (CellType cell : {CellType::Lstm, CellType::Gru}) {
    CellCase c;
    c.cell = cell;
    c.hidden = 33;
    c.batch = 5;
    c.seq_len = 3;
    c.row_pad = 7;
    check_case(c);
    c.row_pad = 0;
    c.bias = false;
    check_case(c);
    c.bias = true;
    c.bias_ih_scale = 1e30f;
    check_case(c);
    CellCase wide;
    wide.cell = cell;
    wide.hidden = 300;
    wide.batch = 37;
    wide.seq_len = 3;
    check_case(wide);
  }
}

TEST_CASE("gpu: launchers reject bad arguments before launching", "[gpu][cells]") {
  cuda::LstmCellStepArgs a;  // all null
  a.batch = 1;
  a.hidden = 8;
  a.ld_h_prev = a.ld_h_out = 8;
  CHECK_THROWS_AS(cuda::lstm_cell_step(a), ShapeError);
  cuda::GruCellStepArgs g;
  CHECK_THROWS_AS(cuda::gru_cell_step(g), ShapeError);
  GPU_REQUIRE(cudaGetLastError());  // nothing was launched, nothing failed
}

int main(int argc, char** argv) {
  if (cuda_device_count() == 0) {
    std::printf(
        "SKIP: no usable CUDA device (cudaGetDeviceCount reported none or an error, e.g. no driver): "
        "GPU kernel tests not run\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
