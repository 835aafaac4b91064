// The persistent recurrence kernel (kernels/persistent_rnn.cuh) compiled as host C++ and run
// through the CPU harness under forward, reverse and seeded-random schedules, against the Eigen
// path (cpu::RnnStack, one layer) for every cell, both batch-row variants (1 and 8 rows per
// block), forward and reverse time order, with guard canaries around every output.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "cell_case.h"
#include "persistent_rnn.cuh"
#include "rnnad/cuda/persistent_rnn.h"
#include "rnnad/model.h"

using namespace rnnad;
using rnnad::test::CellCase;
using rnnad::test::GuardedBuffer;

namespace {

GuardedBuffer guarded(const std::vector<float>& v) {
  GuardedBuffer b(v.size());
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size() * sizeof(float));
  return b;
}

std::vector<float> payload(const GuardedBuffer& b) { return {b.data(), b.data() + b.size()}; }

// Runs the case through the kernel (time reversed when `reverse`) and compares it with the Eigen
// path on the correspondingly ordered input.
void check_case(const CellCase& c, bool reverse) {
  const test::CellData d = test::make_cell_data(c);
  const std::size_t T = static_cast<std::size_t>(c.seq_len), B = static_cast<std::size_t>(c.batch),
                    H = static_cast<std::size_t>(c.hidden), I = static_cast<std::size_t>(c.input);
  const bool lstm = c.cell == CellType::Lstm;
  // The reference runs forward over x in the kernel's processing order.
  test::CellData ordered = d;
  if (reverse)
    for (std::size_t t = 0; t < T; ++t)
      std::memcpy(ordered.x.data() + t * B * I, d.x.data() + (T - 1 - t) * B * I, B * I * sizeof(float));
  const test::SequenceResult ref = test::reference_sequence(c, ordered);
  const std::size_t G = d.weight_hh.size() / H;
  std::vector<float> gx(T * B * G), w_t(H * G);
  for (std::size_t row = 0; row < T * B; ++row)
    for (std::size_t g = 0; g < G; ++g) {
      double s = 0;
      for (std::size_t i = 0; i < I; ++i) s += double(d.x[row * I + i]) * double(d.weight_ih[g * I + i]);
      gx[row * G + g] = static_cast<float>(s);
    }
  for (std::size_t g = 0; g < G; ++g)
    for (std::size_t k = 0; k < H; ++k) w_t[k * G + g] = d.weight_hh[g * H + k];
  GuardedBuffer gx_b = guarded(gx), w_b = guarded(w_t), bih = guarded(d.bias_ih), bhh = guarded(d.bias_hh),
                h0 = guarded(d.h0);
  std::vector<float> first;
  for (sim::Schedule s : {sim::Schedule::Forward, sim::Schedule::Reverse, sim::Schedule::Random}) {
    INFO(test::describe(c) << (reverse ? " reverse" : " forward") << ", schedule " << sim::schedule_name(s));
    GuardedBuffer out(T * B * H, GuardedBuffer::canary()), h_n(B * H, GuardedBuffer::canary()),
        cst = guarded(lstm ? d.c0 : std::vector<float>());
    cuda::PersistentRnnArgs a;
    a.gx = gx_b.data();
    a.w_hh_t = w_b.data();
    a.b_ih = c.bias ? bih.data() : nullptr;
    a.b_hh = c.bias ? bhh.data() : nullptr;
    a.h0 = h0.data();
    a.ld_h0 = c.hidden;
    a.c = lstm ? cst.data() : nullptr;
    a.out = out.data();
    a.h_n = h_n.data();
    a.ld_out = c.hidden;
    a.seq_len = c.seq_len;
    a.batch = c.batch;
    a.hidden = c.hidden;
    a.cell = cuda::persistent_cell(c.cell);
    a.reverse = reverse;
    cuda::check_persistent_rnn_args(a, 227 * 1024);
    const cuda::PersistentGeometry geo = cuda::persistent_geometry(a);
    sim::LaunchOptions opt;
    opt.schedule = s;
    opt.seed = 23;
    opt.dynamic_shared_bytes = geo.shared_bytes;
    if (geo.rows == 1) sim::launch(cuda::persistent_rnn_kernel<1>, dim3(geo.grid_x), dim3(geo.block_x), opt, a);
    else sim::launch(cuda::persistent_rnn_kernel<8>, dim3(geo.grid_x), dim3(geo.block_x), opt, a);
    CHECK(out.guard_damage("out") == "");
    CHECK(h_n.guard_damage("h_n") == "");
    CHECK(cst.guard_damage("c") == "");
    // out[t] of a reverse launch is the reference's step T-1-t.
    std::vector<float> got = payload(out);
    if (reverse)
      for (std::size_t t = 0; t < T; ++t)
        std::memcpy(got.data() + t * B * H, out.data() + (T - 1 - t) * B * H, B * H * sizeof(float));
    CHECK(test::compare(got, ref.output, "output") == "");
    CHECK(test::compare(payload(h_n), ref.h_n, "h_n") == "");
    if (lstm) CHECK(test::compare(payload(cst), ref.c_n, "c_n") == "");
    if (first.empty()) first = got;
    else CHECK(std::memcmp(first.data(), got.data(), first.size() * sizeof(float)) == 0);
  }
}

}  // namespace

TEST_CASE("sim: persistent recurrence matches the Eigen path for every cell, both row variants", "[sim][persistent]") {
  for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnTanh, CellType::RnnRelu})
    for (int hidden : {1, 33})
      for (int batch : {1, 5, 9})
        for (int seq_len : {1, 7}) {
          CellCase c;
          c.cell = cell;
          c.hidden = hidden;
          c.batch = batch;
          c.seq_len = seq_len;
          c.seed = static_cast<std::uint32_t>(7000 + 100 * hidden + 10 * batch + seq_len);
          if (cell == CellType::RnnTanh || cell == CellType::RnnRelu)
            c.weight_scale = 1.0f / std::sqrt(static_cast<float>(hidden));  // as cell_case.cpp's grid
          check_case(c, false);
          if (seq_len > 1) check_case(c, true);
        }
  CellCase nobias;
  nobias.cell = CellType::Gru;
  nobias.hidden = 40;
  nobias.batch = 3;
  nobias.seq_len = 4;
  nobias.bias = false;
  check_case(nobias, false);
}

TEST_CASE("sim: persistent launch checks name the shared-memory limit", "[sim][persistent]") {
  cuda::PersistentRnnArgs a;
  float dummy = 0.0f;
  a.gx = a.w_hh_t = &dummy;
  a.out = &dummy;
  a.seq_len = a.batch = 1;
  a.hidden = 200;
  a.ld_out = 200;
  CHECK_THROWS_WITH(cuda::check_persistent_rnn_args(a, 227 * 1024), Catch::Contains("shared memory"));
  a.hidden = 80;
  a.ld_out = 80;
  CHECK_NOTHROW(cuda::check_persistent_rnn_args(a, 227 * 1024));
  a.ld_out = 79;
  CHECK_THROWS_AS(cuda::check_persistent_rnn_args(a, 227 * 1024), ShapeError);
}
