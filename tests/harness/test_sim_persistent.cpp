// The persistent recurrence kernel (kernels/persistent_rnn.cuh) compiled as host C++ and run
// through the CPU harness under forward, reverse and seeded-random schedules, against the Eigen
// path (cpu::RnnStack, one layer) for every cell, every plan variant (weights in registers or in
// shared memory, 1 or 8 batch rows per block, clusters of 1, 2, 4 and 8 blocks sharing h through
// distributed shared memory, every lane split), forward and reverse time order, with guard
// canaries around every output.
#include <catch2/catch.hpp>
#include <climits>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include "cell_case.h"
#include "persistent_rnn.cuh"
#include "rnnad/cuda/feedback_decoder.h"
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

// The simulated device: 227 KiB of shared memory per block, clusters, and 4 SMs, so that a batch
// of 5 or more runs the 8-row variant.
constexpr cuda::PersistentDevice kDevice{4, 227 * 1024, true, true};

// Launches the kernel instantiation of plan `geo` as the launcher would: a cluster launch for
// groups of 2-8 blocks, a cooperative launch for grid-wide groups.
void launch_plan(const cuda::PersistentRnnArgs& a, const cuda::PersistentGeometry& geo, sim::Schedule schedule) {
  sim::LaunchOptions opt;
  opt.schedule = schedule;
  opt.seed = 23;
  opt.dynamic_shared_bytes = geo.shared_bytes;
  opt.cluster_dims = dim3(geo.grid_sync ? 1u : static_cast<unsigned>(geo.cluster));
  opt.cooperative = geo.grid_sync;
  cuda::persistent_kernel_for(
      a.cell, geo, [&](auto kernel) { sim::launch(kernel, dim3(geo.grid_x), dim3(geo.block_x), opt, a, geo); });
}

// The nearest value of `exact`'s 16-bit format (ties to even); F32: v itself.
float round_to(cuda::PersistentWeights exact, float v) {
  switch (exact) {
    case cuda::PersistentWeights::F16:
      return f16_bits_to_float(float_to_f16_bits(v));
    case cuda::PersistentWeights::BF16:
      return bf16_bits_to_float(float_to_bf16_bits(v));
    default:
      return v;
  }
}

// Runs the case through the kernel with the plan `force` pins (time reversed when `reverse`) and
// compares it with the Eigen path on the correspondingly ordered input; returns the plan. With
// `exact` F16 or BF16, every weight is first rounded to that format (as a model stored in it is)
// and the plan may hold W_hh in it. `output` (when given) receives the output in reference order.
cuda::PersistentGeometry check_case(
    const CellCase& c, bool reverse, const cuda::PersistentOverride& force = {},
    std::vector<sim::Schedule> schedules = {sim::Schedule::Forward, sim::Schedule::Reverse, sim::Schedule::Random},
    const cuda::PersistentDevice& dev = kDevice, cuda::PersistentWeights exact = cuda::PersistentWeights::F32,
    std::vector<float>* output = nullptr) {
  test::CellData d = test::make_cell_data(c);
  for (std::vector<float>* w : {&d.weight_ih, &d.weight_hh, &d.bias_ih, &d.bias_hh})
    for (float& v : *w) v = round_to(exact, v);
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
  const std::optional<cuda::PersistentGeometry> plan =
      cuda::persistent_plan(cuda::persistent_cell(c.cell), c.hidden, c.batch, dev, force, exact);
  REQUIRE(plan);
  const cuda::PersistentGeometry geo = *plan;
  for (sim::Schedule s : schedules) {
    INFO(test::describe(c) << (reverse ? " reverse" : " forward") << ", schedule " << sim::schedule_name(s)
                           << ", plan: cluster " << geo.cluster << ", rows " << geo.rows << ", slices " << geo.slices
                           << ", kpt " << geo.kpt << ", reg_kpt " << geo.reg_kpt << ", threads " << geo.block_x
                           << ", weights " << static_cast<int>(geo.weights));
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
    a.exact_weights = exact;
    if (force.cluster == 0 && force.slices == 0 && !force.shared_weights && !force.half_weights) {
      const cuda::PersistentGeometry checked = cuda::check_persistent_rnn_args(a, dev);
      CHECK(checked.block_x == geo.block_x);
    }
    launch_plan(a, geo, s);
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
    if (first.empty())
      first = got;
    else
      CHECK(std::memcmp(first.data(), got.data(), first.size() * sizeof(float)) == 0);
  }
  if (output) *output = first;
  return geo;
}

}  // namespace

TEST_CASE("sim: persistent recurrence matches the Eigen path for every cell and plan variant", "[sim][persistent]") {
  for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnTanh, CellType::RnnRelu})
    for (int hidden : {1, 33})
      for (int batch : {1, 9})  // 9: two blocks of 8 rows, the second one partial
        for (int seq_len : {1, 7}) {
          CellCase c;
          c.cell = cell;
          c.hidden = hidden;
          c.batch = batch;
          c.seq_len = seq_len;
          c.seed = static_cast<std::uint32_t>(7000 + 100 * hidden + 10 * batch + seq_len);
          if (cell == CellType::RnnTanh || cell == CellType::RnnRelu)
            c.weight_scale = 1.0f / std::sqrt(static_cast<float>(hidden));  // as cell_case.cpp's grid
          // The plan's own choice: registers for one row, shared memory for 8 rows per block.
          const cuda::PersistentGeometry geo = check_case(c, false);
          CHECK(geo.rows == (batch == 1 ? 1 : 8));
          CHECK((geo.reg_kpt > 0) == (batch == 1));
          CHECK(geo.cluster == 1);
          if (hidden == 1 || seq_len == 1) continue;
          // Reverse time order; the same case split over a cluster of 2 (h through distributed
          // shared memory) and, for one row, with the weights in shared memory: one seeded random
          // schedule each (the three schedules above already showed the kernel order-independent).
          const std::vector<sim::Schedule> random{sim::Schedule::Random};
          check_case(c, true, {}, random);
          CHECK(check_case(c, true, {.cluster = 2}, random).cluster == 2);
          if (batch == 1) CHECK(check_case(c, false, {.shared_weights = true}, random).reg_kpt == 0);
        }
  CellCase nobias;
  nobias.cell = CellType::Gru;
  nobias.hidden = 40;
  nobias.batch = 3;
  nobias.seq_len = 4;
  nobias.bias = false;
  check_case(nobias, false);
}

TEST_CASE("sim: persistent recurrence with clusters of 4 and 8, grid-wide groups and every lane split",
          "[sim][persistent]") {
  CellCase c;
  c.hidden = 40;  // 8 blocks of 5 units
  c.batch = 2;
  c.seq_len = 5;
  c.seed = 7777;
  for (CellType cell : {CellType::Lstm, CellType::Gru}) {
    c.cell = cell;
    for (int cluster : {4, 8}) CHECK(check_case(c, true, {.cluster = cluster}).cluster == cluster);
  }
  // Groups beyond a cluster: 16 and 32 blocks exchanging h through `out` and a grid-wide barrier
  // (cooperative launch; a 36-SM device holds 2 x 16 blocks). Always one row per block: 8 rows
  // are planned only for more rows than SMs, which 16 blocks per 8 rows cannot hold.
  constexpr cuda::PersistentDevice wide{36, 227 * 1024, true, true};
  c.hidden = 64;  // 16 blocks of 4 units, 32 of 2
  for (CellType cell : {CellType::Lstm, CellType::Gru})
    for (int batch : {1, 2}) {
      c.cell = cell;
      c.batch = batch;
      for (int cluster : {16, 32}) {
        if (batch > 1 && cluster == 32) continue;  // 64 blocks: more than the simulated SMs
        const auto plan =
            cuda::persistent_plan(cuda::persistent_cell(cell), c.hidden, batch, wide, {.cluster = cluster});
        REQUIRE(plan);
        CHECK(plan->grid_sync);
        CHECK(check_case(c, batch == 2, {.cluster = cluster}, {sim::Schedule::Random}, wide).cluster == cluster);
      }
    }
  // Every lane split with one row (a plain butterfly) and with 8 rows (rows halve per level while
  // a lane holds more than one: as many and more lanes than rows; fewer are not planned).
  c.cell = CellType::Lstm;
  for (int batch : {1, 9}) {
    c.batch = batch;
    c.hidden = batch == 1 ? 40 : 12;
    c.seq_len = 5;
    for (int slices : {1, 2, 4, 8, 16, 32}) {
      if (slices < c.batch / 8 * 8) {
        CHECK_FALSE(cuda::persistent_plan(cuda::PersistentCell::Lstm, c.hidden, c.batch, kDevice, {.slices = slices}));
        continue;
      }
      const cuda::PersistentGeometry geo = check_case(c, false, {.slices = slices}, {sim::Schedule::Random});
      CHECK(geo.slices == slices);
      CHECK(geo.rows == (batch == 1 ? 1 : 8));
      CHECK(geo.kpt == (c.hidden + slices - 1) / slices);
    }
  }
}

TEST_CASE("sim: persistent plans near their limits (sm_90 budget)", "[sim][persistent]") {
  using cuda::PersistentCell;
  constexpr cuda::PersistentDevice h200{132, 227 * 1024, true, true};
  // Registers for one row at H 80 (AD1): 8 lanes per unit, 10 k values each (padded to 12).
  const auto ad1 = cuda::persistent_plan(PersistentCell::Lstm, 80, 1, h200);
  REQUIRE(ad1);
  CHECK(ad1->cluster == 1);
  CHECK(ad1->reg_kpt == 12);
  CHECK(ad1->slices == 8);
  CHECK(ad1->block_x == 640);
  // Largest H one block holds, and the cluster beyond it.
  auto largest = [&](PersistentCell cell, int batch, int cluster) {
    int h = 0;
    for (int H = 1; H <= 2048; ++H) {
      const auto p = cuda::persistent_plan(cell, H, batch, h200, {.cluster = cluster});
      if (p) h = H;
    }
    return h;
  };
  // Every H up to the largest has a plan at batch 1 (no holes where a split leaves a block idle).
  for (PersistentCell cell : {PersistentCell::Lstm, PersistentCell::Gru, PersistentCell::RnnTanh}) {
    int last = 0, missing = 0;
    for (int H = 1; H <= 3000; ++H)
      if (cuda::persistent_plan(cell, H, 1, h200)) last = H;
    for (int H = 1; H <= last; ++H) missing += cuda::persistent_plan(cell, H, 1, h200) ? 0 : 1;
    INFO("cell " << static_cast<int>(cell) << ", largest H " << last);
    CHECK(last >= 1280);
    CHECK(missing == 0);
  }
  CHECK(largest(PersistentCell::Lstm, 1, 1) >= 110);
  CHECK(largest(PersistentCell::Gru, 1, 1) >= 128);
  CHECK(largest(PersistentCell::Lstm, 1, 8) >= 256);  // DB1 in a cluster of 8
  const auto db1 = cuda::persistent_plan(PersistentCell::Lstm, 256, 1, h200);
  REQUIRE(db1);
  CHECK(db1->cluster >= 2);
  // Beyond a cluster of 8: grid-wide groups, at most one block per SM (AD8's GRU 500, DB2, DB3).
  for (auto [cell, H, batch] :
       {std::tuple{PersistentCell::Gru, 500, 1}, {PersistentCell::Lstm, 512, 4}, {PersistentCell::Lstm, 1024, 1}}) {
    INFO("H " << H << " batch " << batch);
    const auto p = cuda::persistent_plan(cell, H, batch, h200);
    REQUIRE(p);
    CHECK(p->grid_sync);
    CHECK(p->cluster > 8);
    CHECK(static_cast<int>(p->grid_x) <= h200.sm_count);
  }
  CHECK_FALSE(cuda::persistent_plan(PersistentCell::Lstm, 4096, 1, h200));        // 256 MB of weights
  CHECK_FALSE(cuda::persistent_plan(PersistentCell::RnnTanh, INT_MAX, 1, h200));  // no int overflow
  // Without clusters and cooperative launches: nothing beyond one block.
  constexpr cuda::PersistentDevice old_gpu{40, 64 * 1024, false, false};
  CHECK_FALSE(cuda::persistent_plan(PersistentCell::Lstm, 256, 1, old_gpu));
  // Cooperative launches without clusters (sm_60-sm_89): grid-wide groups straight after one block.
  constexpr cuda::PersistentDevice turing{40, 64 * 1024, false, true};
  const auto t256 = cuda::persistent_plan(PersistentCell::Lstm, 256, 1, turing);
  REQUIRE(t256);
  CHECK(t256->grid_sync);
  // Every plan's threads stay within its variant's register budget and 1024.
  for (int H : {1, 31, 32, 33, 64, 80, 100, 119, 128, 200, 256, 300})
    for (int batch : {1, 200})
      for (PersistentCell cell : {PersistentCell::Lstm, PersistentCell::Gru, PersistentCell::RnnTanh}) {
        const auto p = cuda::persistent_plan(cell, H, batch, h200);
        if (!p) continue;
        INFO("H " << H << " batch " << batch);
        CHECK(static_cast<int>(p->block_x) <=
              cuda::persistent_max_threads(cuda::persistent_gates(cell), p->reg_kpt, p->rows));
        CHECK(p->units * p->cluster >= H);
        CHECK(p->slices * p->kpt >= H);
        CHECK(p->shared_bytes <= h200.max_shared_bytes);
      }
}

TEST_CASE("sim: persistent kernel on both sides of every plan boundary (sm_90 budget, batch 1)", "[sim][persistent]") {
  // The H where the H200 plan changes mode or group size (docs/kernels.md §9 table), each run on
  // its own plan and one unit past it: registers -> shared memory, 1 block -> cluster of 2 -> 4
  // -> 8 -> grid-wide group of 16 blocks.
  constexpr cuda::PersistentDevice h200{132, 227 * 1024, true, true};
  struct Boundary {
    CellType cell;
    int last;  // the largest H of the smaller plan
  };
  for (const Boundary& b : {Boundary{CellType::Lstm, 96}, Boundary{CellType::Lstm, 120}, Boundary{CellType::Lstm, 168},
                            Boundary{CellType::Lstm, 232}, Boundary{CellType::Lstm, 336}, Boundary{CellType::Gru, 136},
                            Boundary{CellType::Gru, 384}})
    for (int H : {b.last, b.last + 1}) {
      CellCase c;
      c.cell = b.cell;
      c.hidden = H;
      c.batch = 1;
      c.seq_len = 2;
      c.seed = static_cast<std::uint32_t>(9000 + H);
      c.weight_scale = 1.0f / std::sqrt(static_cast<float>(H));
      const auto now = cuda::persistent_plan(cuda::persistent_cell(b.cell), H, 1, h200);
      const auto before = cuda::persistent_plan(cuda::persistent_cell(b.cell), b.last, 1, h200);
      REQUIRE(now);
      REQUIRE(before);
      if (H > b.last)  // past the boundary the plan is another mode or a larger group
        CHECK((now->cluster != before->cluster || now->reg_kpt != before->reg_kpt ||
               now->grid_sync != before->grid_sync));
      check_case(c, false, {}, {sim::Schedule::Random}, h200);
    }
}

TEST_CASE("sim: every register-resident instantiation runs (each cell and padded k count)", "[sim][persistent]") {
  // For each cell and each reg_kpt the kernel is instantiated for, the first (H, lane split,
  // group size) whose plan uses it, at batch 1 and 2 steps: no instantiation is left unrun.
  for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnTanh})
    for (int reg_kpt : cuda::kPersistentRegKpt) {
      std::optional<std::pair<CellCase, cuda::PersistentOverride>> found;
      for (int H = 1; H <= 256 && !found; ++H)
        for (int cluster : {1, 2, 4, 8})
          for (int slices : {32, 16, 8, 4, 2, 1}) {
            const cuda::PersistentOverride force{.cluster = cluster, .slices = slices};
            const auto p = cuda::persistent_plan(cuda::persistent_cell(cell), H, 1, kDevice, force);
            if (found || !p || p->reg_kpt != reg_kpt || p->block_x * p->grid_x > 4096) continue;
            CellCase c;
            c.cell = cell;
            c.hidden = H;
            c.seq_len = 2;
            c.seed = static_cast<std::uint32_t>(11000 + 100 * reg_kpt + H);
            c.weight_scale = 1.0f / std::sqrt(static_cast<float>(H));
            found = std::pair{c, force};
          }
      INFO(cell_type_name(cell) << " reg_kpt " << reg_kpt);
      REQUIRE(found);
      CHECK(check_case(found->first, false, found->second, {sim::Schedule::Random}).reg_kpt == reg_kpt);
    }
}

TEST_CASE("sim: W_hh as 16-bit pairs in shared memory (F16, BF16) gives the bits of fp32 words", "[sim][persistent]") {
  // Weights rounded to F16 / BF16 (a model stored in that format): the same plan with W_hh held
  // as 16-bit pairs and as fp32 words must give the same bits (the values are exact, the sums
  // the same terms in the same order), and both must match the Eigen path on the rounded weights.
  using cuda::PersistentWeights;
  const std::vector<sim::Schedule> random{sim::Schedule::Random};
  auto same_bits = [&](const CellCase& c, bool reverse, cuda::PersistentOverride force, PersistentWeights exact,
                       const cuda::PersistentDevice& dev = kDevice) {
    std::vector<float> pairs, words;
    force.half_weights = true;
    const cuda::PersistentGeometry g16 = check_case(c, reverse, force, random, dev, exact, &pairs);
    force.half_weights = false;
    force.shared_weights = true;
    const cuda::PersistentGeometry g32 = check_case(c, reverse, force, random, dev, exact, &words);
    CHECK(g16.weights == exact);
    CHECK(g16.reg_kpt == 0);
    CHECK(g32.weights == PersistentWeights::F32);
    CHECK(g16.block_x == g32.block_x);
    CHECK(g16.grid_x == g32.grid_x);
    CHECK(g16.shared_bytes < g32.shared_bytes);
    REQUIRE(pairs.size() == words.size());
    CHECK(std::memcmp(pairs.data(), words.data(), pairs.size() * sizeof(float)) == 0);
  };
  for (PersistentWeights exact : {PersistentWeights::F16, PersistentWeights::BF16})
    for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnTanh})
      for (int batch : {1, 9})
        for (int slices : {8, 32}) {  // H 33: 5 k per lane (the last word's high half unused), or 2
          CellCase c;
          c.cell = cell;
          c.hidden = 33;
          c.batch = batch;
          c.seq_len = 6;
          c.seed = static_cast<std::uint32_t>(13000 + 100 * static_cast<int>(exact) + 10 * batch + slices);
          if (cell == CellType::RnnTanh) c.weight_scale = 1.0f / std::sqrt(33.0f);
          INFO(cell_type_name(cell) << " weights " << static_cast<int>(exact) << " slices " << slices);
          same_bits(c, slices == 32, {.slices = slices}, exact);
        }
  // Across a cluster of 2 (distributed shared memory) and a grid-wide group of 16 blocks.
  CellCase c;
  c.hidden = 64;
  c.seq_len = 5;
  c.seed = 13999;
  for (int batch : {1, 9}) {
    c.batch = batch;
    same_bits(c, batch == 9, {.cluster = 2}, PersistentWeights::BF16);
  }
  constexpr cuda::PersistentDevice wide{36, 227 * 1024, true, true};
  c.batch = 1;
  c.cell = CellType::Gru;
  same_bits(c, false, {.cluster = 16}, PersistentWeights::F16, wide);
  // Pairs only for weights that are exact in a 16-bit format.
  CHECK_FALSE(cuda::persistent_plan(cuda::PersistentCell::Lstm, 33, 1, kDevice, {.half_weights = true}));
}

TEST_CASE("sim: 16-bit weights raise the H one block holds (sm_90 budget)", "[sim][persistent]") {
  using cuda::PersistentCell;
  using cuda::PersistentWeights;
  constexpr cuda::PersistentDevice h200{132, 227 * 1024, true, true};
  auto largest_one_block = [&](PersistentCell cell, int batch, PersistentWeights exact) {
    int h = 0;
    for (int H = 1; H <= 400; ++H)
      if (const auto p = cuda::persistent_plan(cell, H, batch, h200, {}, exact); p && p->cluster == 1) h = H;
    return h;
  };
  for (PersistentCell cell : {PersistentCell::Lstm, PersistentCell::Gru})
    for (int batch : {1, 200}) {
      const int fp32 = largest_one_block(cell, batch, PersistentWeights::F32);
      const int f16 = largest_one_block(cell, batch, PersistentWeights::F16);
      INFO("cell " << static_cast<int>(cell) << " batch " << batch << ": fp32 " << fp32 << ", 16-bit " << f16);
      CHECK(largest_one_block(cell, batch, PersistentWeights::BF16) == f16);
      if (batch == 1)
        CHECK(f16 >= fp32 * 13 / 10);  // half the bytes: about sqrt(2) more H, less the h and c buffers
      else  // 8 rows: a block's threads (its register budget), not its shared memory, are the limit
        CHECK(f16 == fp32);
    }
  // Where registers or fp32 words fit, the plan keeps them (no unpacking in the inner loop).
  const auto ad1 = cuda::persistent_plan(PersistentCell::Lstm, 80, 1, h200, {}, PersistentWeights::BF16);
  REQUIRE(ad1);
  CHECK(ad1->reg_kpt == 12);
  CHECK(ad1->weights == PersistentWeights::F32);
  const auto h110 = cuda::persistent_plan(PersistentCell::Lstm, 110, 1, h200, {}, PersistentWeights::F16);
  REQUIRE(h110);
  CHECK(h110->reg_kpt == 0);
  CHECK(h110->weights == PersistentWeights::F32);
  // Past fp32's one-block limit the pairs keep one block; the kernel runs on both sides of the
  // pairs' own limit (the boundary test above does fp32's).
  const int last = largest_one_block(PersistentCell::Lstm, 1, PersistentWeights::BF16);
  const auto at_last = cuda::persistent_plan(PersistentCell::Lstm, last, 1, h200, {}, PersistentWeights::BF16);
  const auto past = cuda::persistent_plan(PersistentCell::Lstm, last + 1, 1, h200, {}, PersistentWeights::BF16);
  REQUIRE(at_last);
  REQUIRE(past);
  CHECK(at_last->weights == PersistentWeights::BF16);
  CHECK(past->cluster == 2);
  for (int H : {last, last + 1}) {
    CellCase c;
    c.hidden = H;
    c.seq_len = 2;
    c.seed = static_cast<std::uint32_t>(14000 + H);
    c.weight_scale = 1.0f / std::sqrt(static_cast<float>(H));
    check_case(c, false, {}, {sim::Schedule::Random}, h200, PersistentWeights::BF16);
  }
}

TEST_CASE("sim: a recurrence run in chunks (state carried through out and c) equals one launch", "[sim][persistent]") {
  // What cuda::RnnStack does for long sequences and when it overlaps layers: chunk k starts from
  // h0 = the last row chunk k − 1 wrote into `out` and the c it left; the bits must not change.
  for (CellType cell : {CellType::Lstm, CellType::Gru})
    for (int batch : {1, 9}) {
      CellCase c;
      c.cell = cell;
      c.hidden = 24;
      c.batch = batch;
      c.seq_len = 11;
      c.seed = static_cast<std::uint32_t>(15000 + batch + 10 * static_cast<int>(cell));
      const test::CellData d = test::make_cell_data(c);
      const int T = c.seq_len, B = c.batch, H = c.hidden, I = c.input;
      const std::size_t G = d.weight_hh.size() / static_cast<std::size_t>(H);
      std::vector<float> gx(static_cast<std::size_t>(T * B) * G), w_t(static_cast<std::size_t>(H) * G);
      for (std::size_t row = 0; row < static_cast<std::size_t>(T * B); ++row)
        for (std::size_t g = 0; g < G; ++g) {
          float s = 0;
          for (int i = 0; i < I; ++i)
            s += d.x[row * static_cast<std::size_t>(I) + static_cast<std::size_t>(i)] *
                 d.weight_ih[g * static_cast<std::size_t>(I) + static_cast<std::size_t>(i)];
          gx[row * G + g] = s;
        }
      for (std::size_t g = 0; g < G; ++g)
        for (int k = 0; k < H; ++k)
          w_t[static_cast<std::size_t>(k) * G + g] =
              d.weight_hh[g * static_cast<std::size_t>(H) + static_cast<std::size_t>(k)];
      const bool lstm = cell == CellType::Lstm;
      // Runs steps [t0, t0 + n) from h0 (row stride H) and the state in `cst`, writing out rows t0...
      auto run = [&](int t0, int n, const float* h0, std::vector<float>& out, std::vector<float>& cst) {
        cuda::PersistentRnnArgs a;
        a.gx = gx.data() + static_cast<std::size_t>(t0 * B) * G;
        a.w_hh_t = w_t.data();
        a.b_ih = d.bias_ih.data();
        a.b_hh = d.bias_hh.data();
        a.h0 = h0;
        a.ld_h0 = H;
        a.c = lstm ? cst.data() : nullptr;
        a.out = out.data() + static_cast<std::size_t>(t0 * B * H);
        a.ld_out = H;
        a.seq_len = n;
        a.batch = B;
        a.hidden = H;
        a.cell = cuda::persistent_cell(cell);
        launch_plan(a, cuda::check_persistent_rnn_args(a, kDevice), sim::Schedule::Random);
      };
      std::vector<float> whole(static_cast<std::size_t>(T * B * H)), chunked(whole.size()), c_whole(d.c0),
          c_chunked(d.c0);
      run(0, T, d.h0.data(), whole, c_whole);
      const float* h0 = d.h0.data();
      for (int t0 = 0; t0 < T; t0 += 4) {  // chunks of 4, 4 and 3 steps
        const int n = std::min(4, T - t0);
        run(t0, n, h0, chunked, c_chunked);
        h0 = chunked.data() + static_cast<std::size_t>((t0 + n - 1) * B * H);
      }
      INFO(cell_type_name(cell) << " batch " << batch);
      CHECK(std::memcmp(whole.data(), chunked.data(), whole.size() * sizeof(float)) == 0);
      if (lstm) CHECK(std::memcmp(c_whole.data(), c_chunked.data(), c_whole.size() * sizeof(float)) == 0);
    }
}

TEST_CASE("sim: persistent launch checks name the limit", "[sim][persistent]") {
  cuda::PersistentRnnArgs a;
  float dummy = 0.0f;
  a.gx = a.w_hh_t = &dummy;
  a.out = &dummy;
  a.seq_len = a.batch = 1;
  a.hidden = 1000;
  a.ld_out = 1000;
  CHECK_THROWS_WITH(cuda::check_persistent_rnn_args(a, kDevice), Catch::Contains("does not fit on chip"));
  a.hidden = 80;
  a.ld_out = 80;
  CHECK_NOTHROW(cuda::check_persistent_rnn_args(a, kDevice));
  a.ld_out = 79;
  CHECK_THROWS_AS(cuda::check_persistent_rnn_args(a, kDevice), ShapeError);
}

TEST_CASE("sim: folded decoder feedback matches the step-by-step decoder (float64 reference)", "[sim][persistent]") {
  // A decoder fed its own reconstruction x_t = W_out h_{t-1} + b_out (EncDec-AD at inference),
  // computed step by step in double here, against the persistent kernel on the folded weights
  // (rnnad/cuda/feedback_decoder.h) with no input, 30 steps, forward and reverse output order.
  for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnTanh})
    for (int batch : {1, 9}) {
      const int I = 3, H = cell == CellType::Lstm ? 10 : cell == CellType::Gru ? 9 : 7, steps = 30;
      const int G = cell == CellType::Lstm ? 4 * H : cell == CellType::Gru ? 3 * H : H;
      std::mt19937 rng(static_cast<std::uint32_t>(4242 + batch + G));
      std::uniform_real_distribution<float> u(-0.4f, 0.4f);
      auto draw = [&](int n) {
        std::vector<float> v(static_cast<std::size_t>(n));
        for (float& x : v) x = u(rng);
        return v;
      };
      const std::vector<float> w_ih = draw(G * I), w_hh = draw(G * H), b_ih = draw(G), b_hh = draw(G),
                               w_out = draw(I * H), b_out = draw(I), h0 = draw(batch * H), c0 = draw(batch * H);
      // Reference: h of every step [steps, B, H] and the final c.
      std::vector<float> ref(static_cast<std::size_t>(steps * batch * H)), ref_c(c0);
      for (int b = 0; b < batch; ++b) {
        std::vector<double> h(h0.begin() + b * H, h0.begin() + (b + 1) * H),
            c(c0.begin() + b * H, c0.begin() + (b + 1) * H);
        for (int t = 0; t < steps; ++t) {
          std::vector<double> x(I), gates(G);
          for (int i = 0; i < I; ++i) {
            x[i] = b_out[i];
            for (int k = 0; k < H; ++k) x[i] += double(w_out[i * H + k]) * h[k];
          }
          std::vector<double> gi(G), gh(G);  // input and recurrent parts with their biases
          for (int g = 0; g < G; ++g) {
            gi[g] = double(b_ih[g]);
            gh[g] = double(b_hh[g]);
            for (int i = 0; i < I; ++i) gi[g] += double(w_ih[g * I + i]) * x[i];
            for (int k = 0; k < H; ++k) gh[g] += double(w_hh[g * H + k]) * h[k];
            gates[g] = gi[g] + gh[g];
          }
          auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
          for (int j = 0; j < H; ++j) {
            if (cell == CellType::Gru) {  // PyTorch: n = tanh(gi_n + r * gh_n)
              const double r = sig(gates[j]), z = sig(gates[H + j]);
              const double n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
              h[j] = (1.0 - z) * n + z * h[j];
            } else if (cell == CellType::Lstm) {
              c[j] = sig(gates[H + j]) * c[j] + sig(gates[j]) * std::tanh(gates[2 * H + j]);
              h[j] = sig(gates[3 * H + j]) * std::tanh(c[j]);
            } else {
              h[j] = std::tanh(gates[j]);
            }
            ref[static_cast<std::size_t>((t * batch + b) * H + j)] = static_cast<float>(h[j]);
          }
        }
        for (int j = 0; j < H; ++j) ref_c[static_cast<std::size_t>(b * H + j)] = static_cast<float>(c[j]);
      }
      RnnParams p;
      p.weight_ih = w_ih.data();
      p.weight_hh = w_hh.data();
      p.bias_ih = b_ih.data();
      p.bias_hh = b_hh.data();
      const cuda::FoldedFeedback f = cuda::fold_feedback(cell, H, I, p, w_out.data(), b_out.data());
      for (bool reverse : {false, true}) {
        INFO(cell_type_name(cell) << " batch " << batch << (reverse ? " reverse" : " forward"));
        GuardedBuffer w_b = guarded(f.w_hh_t), bih = guarded(f.b_ih), bhh = guarded(f.b_hh), h0_b = guarded(h0),
                      c_b = guarded(c0), out(static_cast<std::size_t>(steps * batch * H), GuardedBuffer::canary());
        cuda::PersistentRnnArgs a;
        a.gx = nullptr;
        a.w_hh_t = w_b.data();
        a.b_ih = bih.data();
        a.b_hh = bhh.data();
        a.h0 = h0_b.data();
        a.ld_h0 = H;
        a.c = cell == CellType::Lstm ? c_b.data() : nullptr;
        a.out = out.data();
        a.ld_out = H;
        a.seq_len = steps;
        a.batch = batch;
        a.hidden = H;
        a.cell = cuda::folded_cell(cell);
        a.reverse = reverse;
        const cuda::PersistentGeometry geo = cuda::check_persistent_rnn_args(a, kDevice);
        launch_plan(a, geo, sim::Schedule::Random);
        CHECK(out.guard_damage("out") == "");
        std::vector<float> got = payload(out);
        if (reverse)  // step s was written to row steps - 1 - s
          for (int t = 0; t < steps; ++t)
            std::memcpy(got.data() + t * batch * H, out.data() + (steps - 1 - t) * batch * H,
                        static_cast<std::size_t>(batch * H) * sizeof(float));
        CHECK(test::compare(got, ref, "h of every step") == "");
        if (cell == CellType::Lstm) CHECK(test::compare(payload(c_b), ref_c, "final c") == "");
      }
    }
}
