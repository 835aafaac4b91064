// The fused LSTM and GRU step kernels (kernels/lstm_cell.cuh, kernels/gru_cell.cuh) and the GEMM
// strategy's gate kernel (kernels/gate_kernels.cuh), compiled as
// host C++ and run through the CPU harness under forward, reverse and seeded-random schedules,
// against the Eigen path (cpu::RnnStack) on H in {1, 33, 80}, B in {1, 5}, T in {1, 17}
// (design.md §7 tolerance), with guard canaries around every buffer.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cell_case.h"
#include "gate_kernels.cuh"
#include "gru_cell.cuh"
#include "lstm_cell.cuh"
#include "rnn_cell.cuh"
#include "rnnad/cuda/cell_kernels.h"
#include "rnnad/error.h"

using namespace rnnad;
using rnnad::test::CellCase;
using rnnad::test::StepBuffers;

namespace {

struct ScheduleCase {
  sim::Schedule schedule;
  std::uint64_t seed;
};
const ScheduleCase kSchedules[] = {
    {sim::Schedule::Forward, 0}, {sim::Schedule::Reverse, 0}, {sim::Schedule::Random, 7}};

std::string schedule_text(const ScheduleCase& s) {
  return std::string(sim::schedule_name(s.schedule)) +
         (s.schedule == sim::Schedule::Random ? " seed " + std::to_string(s.seed) : "");
}

cuda::LstmCellStepArgs lstm_args(StepBuffers& io) {
  cuda::LstmCellStepArgs a;
  a.gx = io.gx.data();
  a.w_hh_t = io.w_hh_t.data();
  a.b_ih = io.bias ? io.b_ih.data() : nullptr;
  a.b_hh = io.bias ? io.b_hh.data() : nullptr;
  a.h_prev = io.h_prev.data();
  a.c_prev = io.c.data();
  a.h_out = io.h_out.data();
  a.c_out = io.c.data();
  a.batch = io.batch;
  a.hidden = io.hidden;
  a.ld_h_prev = io.ld;
  a.ld_h_out = io.ld;
  return a;
}

cuda::GruCellStepArgs gru_args(StepBuffers& io) {
  cuda::GruCellStepArgs a;
  a.gx = io.gx.data();
  a.w_hh_t = io.w_hh_t.data();
  a.b_ih = io.bias ? io.b_ih.data() : nullptr;
  a.b_hh = io.bias ? io.b_hh.data() : nullptr;
  a.h_prev = io.h_prev.data();
  a.h_out = io.h_out.data();
  a.batch = io.batch;
  a.hidden = io.hidden;
  a.ld_h_prev = io.ld;
  a.ld_h_out = io.ld;
  return a;
}

cuda::RnnCellStepArgs rnn_args(StepBuffers& io, CellType cell) {
  cuda::RnnCellStepArgs a;
  a.gx = io.gx.data();
  a.w_hh_t = io.w_hh_t.data();
  a.b_ih = io.bias ? io.b_ih.data() : nullptr;
  a.b_hh = io.bias ? io.b_hh.data() : nullptr;
  a.h_prev = io.h_prev.data();
  a.h_out = io.h_out.data();
  a.batch = io.batch;
  a.hidden = io.hidden;
  a.ld_h_prev = io.ld;
  a.ld_h_out = io.ld;
  a.relu = cell == CellType::RnnRelu;
  return a;
}

// Runs the production kernels through the harness; each step's random schedule gets its own seed.
test::StepRunner sim_runner(CellType cell, ScheduleCase s) {
  return [cell, s](StepBuffers& io, int step) {
    sim::LaunchOptions opt;
    opt.schedule = s.schedule;
    opt.seed = s.seed + static_cast<std::uint64_t>(step);
    const cuda::CellStepGeometry geo = cuda::cell_step_geometry(io.batch, io.hidden);
    const dim3 grid(geo.grid_x, geo.grid_y), block(geo.block_x, geo.block_y);
    if (cell == CellType::Lstm) {
      const cuda::LstmCellStepArgs a = lstm_args(io);
      cuda::check_lstm_cell_step_args(a);
      sim::launch(cuda::lstm_cell_step_kernel, grid, block, opt, a);
    } else if (cell == CellType::Gru) {
      const cuda::GruCellStepArgs a = gru_args(io);
      cuda::check_gru_cell_step_args(a);
      sim::launch(cuda::gru_cell_step_kernel, grid, block, opt, a);
    } else {
      const cuda::RnnCellStepArgs a = rnn_args(io, cell);
      cuda::check_rnn_cell_step_args(a);
      sim::launch(cuda::rnn_cell_step_kernel, grid, block, opt, a);
    }
  };
}

// The GEMM strategy's step: gh = h_prev W_hh^T as cuBLAS would compute it (here in double,
// rounded once), then the element-wise gate kernel through the harness.
test::StepRunner gemm_runner(CellType cell, ScheduleCase s) {
  return [cell, s](StepBuffers& io, int step) {
    const int B = io.batch, H = io.hidden;
    const int G = cell == CellType::Lstm ? 4 * H : cell == CellType::Gru ? 3 * H : H;
    std::vector<float> gh(static_cast<std::size_t>(B) * static_cast<std::size_t>(G));
    for (int b = 0; b < B; ++b)
      for (int g = 0; g < G; ++g) {
        double acc = 0.0;
        for (int k = 0; k < H; ++k)
          acc += double(io.h_prev.data()[b * io.ld + k]) * double(io.w_hh_t.data()[k * G + g]);
        gh[static_cast<std::size_t>(b * G + g)] = static_cast<float>(acc);
      }
    cuda::CellGatesArgs a;
    a.gx = io.gx.data();
    a.gh = gh.data();
    a.b_ih = io.bias ? io.b_ih.data() : nullptr;
    a.b_hh = io.bias ? io.b_hh.data() : nullptr;
    a.h_prev = io.h_prev.data();
    a.ld_h_prev = io.ld;
    a.c = cell == CellType::Lstm ? io.c.data() : nullptr;
    a.h_out = io.h_out.data();
    a.ld_h_out = io.ld;
    a.batch = B;
    a.hidden = H;
    a.cell = cell;
    cuda::check_cell_gates_args(a);
    sim::LaunchOptions opt;
    opt.schedule = s.schedule;
    opt.seed = s.seed + static_cast<std::uint64_t>(step);
    const dim3 grid(cuda::cell_gates_blocks(a)), block(cuda::kCellGatesThreads);
    if (cell == CellType::Lstm)
      sim::launch(cuda::cell_gates_kernel<4>, grid, block, opt, a);
    else if (cell == CellType::Gru)
      sim::launch(cuda::cell_gates_kernel<3>, grid, block, opt, a);
    else
      sim::launch(cuda::cell_gates_kernel<1>, grid, block, opt, a);
  };
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Every schedule matches the reference, leaves the guards intact and gives the same bits; `gemm`:
// the GEMM strategy's gate kernel instead of the fused cells.
void check_case(const CellCase& c, bool gemm = false) {
  const test::CellData data = test::make_cell_data(c);
  const test::SequenceResult ref = test::reference_sequence(c, data);
  std::vector<float> first_output;
  for (const ScheduleCase& s : kSchedules) {
    INFO(test::describe(c) << ", schedule " << schedule_text(s));
    const test::SequenceResult got = test::run_sequence(c, data, gemm ? gemm_runner(c.cell, s) : sim_runner(c.cell, s));
    CHECK(got.damage == "");
    CHECK(test::compare(got.output, ref.output, "output") == "");
    CHECK(test::compare(got.h_n, ref.h_n, "h_n") == "");
    CHECK(test::compare(got.c_n, ref.c_n, "c_n") == "");
    if (first_output.empty())
      first_output = got.output;
    else
      CHECK(same_bits(got.output, first_output));  // no schedule dependence at all
  }
}

}  // namespace

TEST_CASE("sim: fused LSTM and GRU steps match the Eigen path on the issue's grid, every schedule", "[sim][cells]") {
  for (const CellCase& c : test::issue_grid()) check_case(c);
}

TEST_CASE("sim: the GEMM strategy's gate kernel matches the Eigen path on the issue's grid", "[sim][cells][gemm]") {
  for (const CellCase& c : test::issue_grid()) check_case(c, true);
  CellCase strided;  // ld = H + 7 (bidirectional rows), no bias
  strided.hidden = 40;
  strided.batch = 3;
  strided.seq_len = 4;
  strided.row_pad = 7;
  strided.bias = false;
  for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnRelu}) {
    strided.cell = cell;
    check_case(strided, true);
  }
}

TEST_CASE("sim: strided h rows, no bias, more tiles and a second k chunk", "[sim][cells]") {
  for (CellType cell : {CellType::Lstm, CellType::Gru}) {
    CellCase strided;  // ld = H + 7: pad columns must stay untouched and unread
    strided.cell = cell;
    strided.hidden = 33;
    strided.batch = 5;
    strided.seq_len = 3;
    strided.row_pad = 7;
    check_case(strided);
    CellCase no_bias = strided;  // bias=False: null bias pointers
    no_bias.row_pad = 0;
    no_bias.bias = false;
    check_case(no_bias);
    CellCase wide;  // H = 130: 5 unit tiles, 3 chunks of k (64, 64, 2); B = 9: 3 batch tiles
    wide.cell = cell;
    wide.hidden = 130;
    wide.batch = 9;
    wide.seq_len = 2;
    wide.input = 1;
    check_case(wide);
  }
}

TEST_CASE("sim: saturated gates stay exact and finite", "[sim][cells][numerics]") {
  // b_ih up to 1e4 and up to 1e30 puts almost every pre-activation deep into saturation. One huge
  // exact term and small others: no cancellation, so the check stays well conditioned (huge
  // weights times huge inputs would compare summation orders, not the kernel).
  for (CellType cell : {CellType::Lstm, CellType::Gru})
    for (float scale : {1e4f, 1e30f}) {
      CellCase c;
      c.cell = cell;
      c.hidden = 33;
      c.batch = 5;
      c.seq_len = 4;
      c.bias_ih_scale = scale;
      check_case(c);
    }
}

TEST_CASE("sim: cell_sigmoid and cell_tanh: accuracy, exact saturation, no NaN", "[sim][numerics]") {
  const float inf = std::numeric_limits<float>::infinity();
  for (float x : {0.0f,   -0.0f, 1e-30f, -1e-30f, 1e-4f, -3e-3f,  0.5f,    -0.9f,  1.0f,  2.5f,  -4.0f,  8.9f, 9.5f,
                  -15.0f, 20.0f, 88.0f,  -88.7f,  89.0f, -104.0f, -110.0f, 200.0f, -1e4f, 3e38f, -3e38f, inf,  -inf}) {
    INFO("x = " << x);
    const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
    const double t = std::tanh(static_cast<double>(x));
    const float gs = cuda::cell_sigmoid(x), gt = cuda::cell_tanh(x);
    REQUIRE(std::isfinite(gs));
    REQUIRE(std::isfinite(gt));
    CHECK(std::abs(gs - s) <= 3e-7 * s + 2e-45);  // relative; absolute only in the denormals
    CHECK(std::abs(gt - t) <= 4e-7 * std::abs(t) + 1e-45);
    if (x >= 17.0f) CHECK(gs == 1.0f);
    if (x <= -110.0f) CHECK(gs == 0.0f);
    if (std::abs(x) >= 9.5f) CHECK(std::abs(gt) == 1.0f);
  }
  CHECK(std::signbit(cuda::cell_tanh(-0.0f)));
  CHECK(std::isnan(cuda::cell_sigmoid(std::nanf(""))));
  CHECK(std::isnan(cuda::cell_tanh(std::nanf(""))));
}

TEST_CASE("sim: launcher argument checks reject bad shapes and aliasing", "[sim][cells]") {
  std::vector<float> gx(4 * 8 * 2), w(8 * 32), h(16), h2(16), c(16);
  cuda::LstmCellStepArgs a;
  a.gx = gx.data();
  a.w_hh_t = w.data();
  a.h_prev = h.data();
  a.c_prev = c.data();
  a.h_out = h2.data();
  a.c_out = c.data();
  a.batch = 2;
  a.hidden = 8;
  a.ld_h_prev = 8;
  a.ld_h_out = 8;
  REQUIRE_NOTHROW(cuda::check_lstm_cell_step_args(a));  // c in place is allowed
  auto bad = a;
  bad.batch = 0;
  CHECK_THROWS_AS(cuda::check_lstm_cell_step_args(bad), ShapeError);
  bad = a;
  bad.hidden = 0;
  CHECK_THROWS_AS(cuda::check_lstm_cell_step_args(bad), ShapeError);
  bad = a;
  bad.ld_h_out = 7;
  CHECK_THROWS_WITH(cuda::check_lstm_cell_step_args(bad), Catch::Contains("row strides"));
  bad = a;
  bad.h_out = h.data() + 8;  // second row of h_prev
  CHECK_THROWS_WITH(cuda::check_lstm_cell_step_args(bad), Catch::Contains("h_out overlaps h_prev"));
  bad = a;
  bad.c_out = c.data() + 1;
  CHECK_THROWS_WITH(cuda::check_lstm_cell_step_args(bad), Catch::Contains("c_out"));
  bad = a;
  bad.w_hh_t = nullptr;
  CHECK_THROWS_AS(cuda::check_lstm_cell_step_args(bad), ShapeError);
  bad = a;
  bad.hidden = 65535 * 32 + 1;
  bad.ld_h_prev = bad.ld_h_out = bad.hidden;
  CHECK_THROWS_WITH(cuda::check_lstm_cell_step_args(bad), Catch::Contains("exceeds the kernel's limit"));

  cuda::GruCellStepArgs g;
  g.gx = gx.data();
  g.w_hh_t = w.data();
  g.h_prev = h.data();
  g.h_out = h.data();
  g.batch = 2;
  g.hidden = 8;
  g.ld_h_prev = 8;
  g.ld_h_out = 8;
  CHECK_THROWS_WITH(cuda::check_gru_cell_step_args(g), Catch::Contains("h_out overlaps h_prev"));
  g.h_out = h2.data();
  CHECK_NOTHROW(cuda::check_gru_cell_step_args(g));
}
