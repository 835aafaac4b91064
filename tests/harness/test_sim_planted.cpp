// Planted bugs (tests/harness/planted/, deliberately broken copies of kernels, built only here):
// each must be detected deterministically under forward, reverse and seeded-random schedules,
// and the correct original must pass under the same schedules (no false positive).
//   (a)  read of smem[tid+1] without a barrier           -> shared-memory race
//   (a') the cell kernel's staging barrier removed        -> shared-memory race
//   (b)  missing barrier in a 64-thread tree reduction    -> shared-memory race
//   (c)  off-by-one in the hidden tail, H = 33            -> guard canary damage
//   (d)  shared-memory overflow by one element            -> harness bounds check
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cell_case.h"
#include "lstm_cell.cuh"
#include "planted/gru_cell_smem_overflow.cuh"
#include "planted/lstm_cell_missing_stage_barrier.cuh"
#include "planted/lstm_cell_tail_off_by_one.cuh"
#include "planted/neighbor_read_no_barrier.cuh"
#include "planted/reduce64_missing_barrier.cuh"
#include "test_kernels/reduce64.cuh"
#include "test_kernels/stencil.cuh"

using namespace rnnad;

namespace {

// Forward, reverse and three random seeds.
std::vector<sim::LaunchOptions> schedules() {
  std::vector<sim::LaunchOptions> out;
  for (sim::Schedule s : {sim::Schedule::Forward, sim::Schedule::Reverse}) {
    sim::LaunchOptions o;
    o.schedule = s;
    out.push_back(o);
  }
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    sim::LaunchOptions o;
    o.schedule = sim::Schedule::Random;
    o.seed = seed;
    out.push_back(o);
  }
  return out;
}

std::string text(const sim::LaunchOptions& o) {
  return std::string(sim::schedule_name(o.schedule)) +
         (o.schedule == sim::Schedule::Random ? " seed " + std::to_string(o.seed) : std::string());
}

// Runs `launch` and returns the fault it raised; fails the test when there was none.
template <class F>
sim::KernelFault expect_fault(F&& launch) {
  try {
    launch();
  } catch (const sim::KernelFault& f) {
    return f;
  }
  FAIL("the launch completed without a fault");
  return sim::KernelFault(sim::FaultKind::BadLaunch, "");
}

std::vector<float> iota(std::size_t n, float scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 37) % 101) - 20.0f;
  return v;
}

cuda::LstmCellStepArgs lstm_args(test::StepBuffers& io) {
  cuda::LstmCellStepArgs a;
  a.gx = io.gx.data();
  a.w_hh_t = io.w_hh_t.data();
  a.b_ih = io.b_ih.data();
  a.b_hh = io.b_hh.data();
  a.h_prev = io.h_prev.data();
  a.c_prev = io.c.data();
  a.h_out = io.h_out.data();
  a.c_out = io.c.data();
  a.batch = io.batch;
  a.hidden = io.hidden;
  a.ld_h_prev = a.ld_h_out = io.ld;
  return a;
}

test::CellCase cell_case(CellType cell, int hidden, int batch) {
  test::CellCase c;
  c.cell = cell;
  c.hidden = hidden;
  c.batch = batch;
  c.seq_len = 2;
  c.seed = 9;
  return c;
}

}  // namespace

TEST_CASE("planted (a): reading smem[tid+1] without a barrier is a race under every schedule", "[sim][planted]") {
  const std::vector<float> x = iota(100, 0.5f);
  std::vector<float> y(100);
  for (const sim::LaunchOptions& o : schedules()) {
    INFO("schedule " << text(o));
    const sim::KernelFault f = expect_fault(
        [&] { sim::launch(planted::neighbor_diff_no_barrier_kernel, dim3(2), dim3(64), o, x.data(), y.data(), 100); });
    INFO(f.what());
    CHECK(f.kind() == sim::FaultKind::SharedRace);
    CHECK_THAT(f.what(), Catch::Contains("s["));
    // The original, with its barrier, is clean and right.
    std::vector<float> good(100);
    sim::launch(sim_test::neighbor_diff_kernel, dim3(2), dim3(64), o, x.data(), good.data(), 100);
    for (int i = 0; i < 100; ++i) {
      const float next = (i % 64 != 63 && i + 1 < 100) ? x[static_cast<std::size_t>(i) + 1] : 0.0f;
      CHECK(good[static_cast<std::size_t>(i)] == next - x[static_cast<std::size_t>(i)]);
    }
  }
}

TEST_CASE("planted (a'): the cell kernel without its staging barrier is a race under every schedule",
          "[sim][planted]") {
  const test::CellCase c = cell_case(CellType::Lstm, 33, 5);
  const test::CellData d = test::make_cell_data(c);
  for (const sim::LaunchOptions& o : schedules()) {
    INFO("schedule " << text(o));
    const sim::KernelFault f = expect_fault([&] {
      test::run_sequence(c, d, [&](test::StepBuffers& io, int) {
        const cuda::CellStepGeometry g = cuda::cell_step_geometry(io.batch, io.hidden);
        sim::launch(planted::lstm_cell_missing_stage_barrier_kernel, dim3(g.grid_x, g.grid_y),
                    dim3(g.block_x, g.block_y), o, lstm_args(io));
      });
    });
    INFO(f.what());
    CHECK(f.kind() == sim::FaultKind::SharedRace);
    CHECK_THAT(f.what(), Catch::Contains("h_s["));
  }
}

TEST_CASE("planted (b): a 64-thread reduction missing its barrier is a race under every schedule", "[sim][planted]") {
  const std::vector<float> x = iota(128, 0.25f);
  std::vector<float> out(2);
  for (const sim::LaunchOptions& o : schedules()) {
    INFO("schedule " << text(o));
    const sim::KernelFault f = expect_fault(
        [&] { sim::launch(planted::reduce64_missing_barrier_kernel, dim3(2), dim3(64), o, x.data(), out.data()); });
    INFO(f.what());
    CHECK(f.kind() == sim::FaultKind::SharedRace);
    std::vector<float> good(2);
    sim::launch(sim_test::reduce64_kernel, dim3(2), dim3(64), o, x.data(), good.data());
    for (int b = 0; b < 2; ++b) {
      double s = 0.0;
      for (int i = 0; i < 64; ++i) s += x[static_cast<std::size_t>(64 * b + i)];
      CHECK(good[static_cast<std::size_t>(b)] == Approx(s).epsilon(1e-6));
    }
  }
}

TEST_CASE("planted (c): an off-by-one in the H = 33 tail damages the guards under every schedule", "[sim][planted]") {
  for (int batch : {1, 5}) {
    const test::CellCase c = cell_case(CellType::Lstm, 33, batch);
    const test::CellData d = test::make_cell_data(c);
    const test::SequenceResult ref = test::reference_sequence(c, d);
    for (const sim::LaunchOptions& o : schedules()) {
      INFO("B=" << batch << ", schedule " << text(o));
      // The planted kernel: the harness raises no fault (global memory is plain host memory),
      // the canaries past h_out and c show the write one past the row.
      const test::SequenceResult bad = test::run_sequence(c, d, [&](test::StepBuffers& io, int) {
        const cuda::CellStepGeometry g = cuda::cell_step_geometry(io.batch, io.hidden);
        sim::launch(planted::lstm_cell_tail_off_by_one_kernel, dim3(g.grid_x, g.grid_y), dim3(g.block_x, g.block_y), o,
                    lstm_args(io));
      });
      INFO("damage: " << bad.damage);
      CHECK_THAT(bad.damage, Catch::Contains("guard element 0 after the end"));
      // The original kernel on the same case: guards intact, outputs match.
      const test::SequenceResult good = test::run_sequence(c, d, [&](test::StepBuffers& io, int) {
        const cuda::CellStepGeometry g = cuda::cell_step_geometry(io.batch, io.hidden);
        sim::launch(cuda::lstm_cell_step_kernel, dim3(g.grid_x, g.grid_y), dim3(g.block_x, g.block_y), o,
                    lstm_args(io));
      });
      CHECK(good.damage == "");
      CHECK(test::compare(good.output, ref.output, "output") == "");
    }
  }
}

TEST_CASE("planted (d): a shared-memory overflow by one element is caught by the bounds check", "[sim][planted]") {
  const test::CellCase c = cell_case(CellType::Gru, 33, 5);
  const test::CellData d = test::make_cell_data(c);
  for (const sim::LaunchOptions& o : schedules()) {
    INFO("schedule " << text(o));
    const sim::KernelFault f = expect_fault([&] {
      test::run_sequence(c, d, [&](test::StepBuffers& io, int) {
        cuda::GruCellStepArgs a;
        a.gx = io.gx.data();
        a.w_hh_t = io.w_hh_t.data();
        a.b_ih = io.b_ih.data();
        a.b_hh = io.b_hh.data();
        a.h_prev = io.h_prev.data();
        a.h_out = io.h_out.data();
        a.batch = io.batch;
        a.hidden = io.hidden;
        a.ld_h_prev = a.ld_h_out = io.ld;
        const cuda::CellStepGeometry g = cuda::cell_step_geometry(io.batch, io.hidden);
        sim::launch(planted::gru_cell_smem_overflow_kernel, dim3(g.grid_x, g.grid_y), dim3(g.block_x, g.block_y), o, a);
      });
    });
    INFO(f.what());
    CHECK(f.kind() == sim::FaultKind::SharedOutOfBounds);
    CHECK_THAT(f.what(), Catch::Contains("h_s[256]"));
  }
}
