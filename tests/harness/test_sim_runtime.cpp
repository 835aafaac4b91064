// Self-tests of the CPU harness (tests/harness/src/runtime.cpp): every modelled CUDA feature
// gives CUDA's results, every misuse the harness claims to catch is caught, under forward,
// reverse and seeded-random schedules (docs/kernels.md §3-4).
#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "test_kernels/features.cuh"
#include "test_kernels/reduce64.cuh"

using namespace rnnad;

namespace {

std::vector<sim::LaunchOptions> schedules() {
  std::vector<sim::LaunchOptions> out(4);
  out[1].schedule = sim::Schedule::Reverse;
  out[2].schedule = sim::Schedule::Random;
  out[2].seed = 11;
  out[3].schedule = sim::Schedule::Random;
  out[3].seed = 12;
  return out;
}

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

}  // namespace

TEST_CASE("harness: warp shuffles, votes, tiles and disjoint-mask collectives give CUDA's results", "[sim][harness]") {
  const int threads = 64;
  for (const sim::LaunchOptions& o : schedules()) {
    INFO("schedule " << sim::schedule_name(o.schedule));
    std::vector<int> out(static_cast<std::size_t>(2 * threads * sim_test::kWarpOpsPerLane), -1);
    sim::launch(sim_test::warp_ops_kernel, dim3(2), dim3(threads), o, out.data());
    for (int gid = 0; gid < 2 * threads; ++gid) {
      const int lane = gid % 32, warp_base = gid - lane;
      const int* r = out.data() + gid * sim_test::kWarpOpsPerLane;
      auto v = [](int g) { return 100 * g; };
      INFO("thread " << gid);
      CHECK(r[0] == v(warp_base + 3));
      CHECK(r[1] == v(lane >= 1 ? gid - 1 : gid));
      CHECK(r[2] == v(lane + 2 < 32 ? gid + 2 : gid));
      CHECK(r[3] == v(gid ^ 1));
      CHECK(r[4] == v(warp_base + lane / 8 * 8 + 2));
      CHECK(r[5] == v(lane % 8 + 4 < 8 ? gid + 4 : gid));
      CHECK(static_cast<unsigned>(r[6]) == 0x49249249u);  // lanes 0, 3, 6, ..., 30
      CHECK(r[7] == 1);
      CHECK(r[8] == 1);
      CHECK(r[9] == 31 * 32 / 2);
      CHECK(r[10] == v(warp_base + 31));
      CHECK(r[11] == lane + 100 * ((gid % threads) / 32));
      CHECK(r[12] == 1);
      CHECK(r[13] == v(lane < 16 ? (gid ^ 1) : (warp_base + (lane ^ 2))));
    }
  }
}

TEST_CASE("harness: warp reductions and counting barriers", "[sim][harness]") {
  for (const sim::LaunchOptions& o : schedules()) {
    std::vector<int> out(64 * 6, 0);
    sim::launch(sim_test::reductions_kernel, dim3(1), dim3(64), o, out.data());
    for (int t = 0; t < 64; ++t) {
      const int* r = out.data() + t * 6;
      CHECK(r[0] == 31 * 32 / 2);
      CHECK(r[1] == 5 - 31);
      CHECK(r[2] == 31 - 40);
      CHECK(r[3] == 22);  // 0, 3, ..., 63
      CHECK(r[4] == 1);
      CHECK(r[5] == 1);
    }
  }
}

TEST_CASE("harness: __syncwarp orders a warp's shared accesses; without it the race is reported", "[sim][harness]") {
  for (const sim::LaunchOptions& o : schedules()) {
    std::vector<int> out(32);
    sim::launch(sim_test::warp_shared_kernel, dim3(1), dim3(32), o, out.data(), true);
    for (int l = 0; l < 32; ++l) CHECK(out[static_cast<std::size_t>(l)] == (l ^ 1) * 10);
    const sim::KernelFault f =
        expect_fault([&] { sim::launch(sim_test::warp_shared_kernel, dim3(1), dim3(32), o, out.data(), false); });
    INFO(f.what());
    CHECK(f.kind() == sim::FaultKind::SharedRace);
  }
}

TEST_CASE("harness: schedules are the documented orders and random ones are reproducible", "[sim][harness]") {
  auto tickets = [](const sim::LaunchOptions& o) {
    unsigned counter = 0;
    std::vector<unsigned> t(3 * 40);
    sim::launch(sim_test::ticket_kernel, dim3(3), dim3(40), o, &counter, t.data());
    return t;
  };
  std::vector<unsigned> forward(120), reverse(120);
  std::iota(forward.begin(), forward.end(), 0u);
  std::iota(reverse.rbegin(), reverse.rend(), 0u);
  auto o = schedules();
  CHECK(tickets(o[0]) == forward);
  CHECK(tickets(o[1]) == reverse);
  const auto r11 = tickets(o[2]), r12 = tickets(o[3]);
  CHECK(tickets(o[2]) == r11);  // same seed, same order
  CHECK(r11 != r12);
  CHECK(r11 != forward);
  std::vector<unsigned> sorted = r11;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == forward);  // a permutation: every thread ran once
}

TEST_CASE("harness: shared and global atomics", "[sim][harness]") {
  std::vector<int> keys(300);
  for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = static_cast<int>((i * 7 + i / 5) % 8);
  std::vector<unsigned> expected(8, 0);
  for (int k : keys) ++expected[static_cast<std::size_t>(k)];
  for (const sim::LaunchOptions& o : schedules()) {
    std::vector<unsigned> hist(8, 0);
    sim::launch(sim_test::histogram_kernel, dim3(5), dim3(64), o, keys.data(), 300, hist.data());
    CHECK(hist == expected);
    unsigned out = 0;
    const sim::KernelFault f =
        expect_fault([&] { sim::launch(sim_test::mixed_atomic_kernel, dim3(1), dim3(32), o, &out); });
    INFO(f.what());
    CHECK(f.kind() == sim::FaultKind::SharedRace);
  }
}

TEST_CASE("harness: float bit moves keep every pattern; 16-bit conversions are exact", "[sim][harness]") {
  // Words whose float reading is a NaN, an infinity, a subnormal and -0 come back unchanged; the
  // low halves are binary16 patterns (1.0, the smallest subnormal, -2.0, 65504, and a NaN).
  const std::vector<unsigned> in = {0x7fc00001u, 0xff800000u, 0x00000001u, 0x80000000u,
                                    0x12343c00u, 0x00010001u, 0xabcdc000u, 0x00007bffu};
  const std::vector<unsigned> halves_as_float = {0x3f800000u, 0x33800000u, 0xc0000000u, 0x477fe000u};
  for (const sim::LaunchOptions& o : schedules()) {
    std::vector<unsigned> out(3 * in.size());
    sim::launch(sim_test::bit_moves_kernel, dim3(1), dim3(static_cast<unsigned>(in.size())), o, in.data(), out.data());
    for (std::size_t t = 0; t < in.size(); ++t) {
      const unsigned w = in[(t + 1) % in.size()];
      CHECK(out[3 * t] == w);
      if ((w & 0x7c00u) != 0x7c00u) CHECK(out[3 * t + 1] == (w & 0xffffu));  // finite halves round-trip
    }
    CHECK(out[3 * 3 + 2] == halves_as_float[0]);  // thread 3 reads word 4: 0x3c00
    CHECK(out[3 * 4 + 2] == halves_as_float[1]);  // word 5: 0x0001
    CHECK(out[3 * 5 + 2] == halves_as_float[2]);  // word 6: 0xc000
    CHECK(out[3 * 6 + 2] == halves_as_float[3]);  // word 7: 0x7bff
  }
}

TEST_CASE("harness: grid.sync in a cooperative launch; refused otherwise", "[sim][harness]") {
  for (sim::LaunchOptions o : schedules()) {
    std::vector<float> published(6, 0.0f), sums(6, 0.0f);
    o.cooperative = true;
    sim::launch(sim_test::grid_sum_kernel, dim3(6), dim3(32), o, published.data(), sums.data());
    for (float s : sums) CHECK(s == 21.0f);
    o.cooperative = false;
    const sim::KernelFault f = expect_fault(
        [&] { sim::launch(sim_test::grid_sum_kernel, dim3(6), dim3(32), o, published.data(), sums.data()); });
    CHECK(f.kind() == sim::FaultKind::Unsupported);
  }
}

TEST_CASE("harness: cluster sync and distributed shared memory; the missing sync is a race", "[sim][harness]") {
  for (sim::LaunchOptions o : schedules()) {
    o.cluster_dims = dim3(2);
    std::vector<int> out(4 * 64, -1);
    sim::launch(sim_test::cluster_exchange_kernel, dim3(4), dim3(64), o, out.data(), true);
    for (int b = 0; b < 4; ++b)
      for (int t = 0; t < 64; ++t) {
        const int neighbour = b / 2 * 2 + (b % 2 + 1) % 2;
        CHECK(out[static_cast<std::size_t>(b * 64 + t)] == 1000 * neighbour + t);
      }
    const sim::KernelFault f =
        expect_fault([&] { sim::launch(sim_test::cluster_exchange_kernel, dim3(4), dim3(64), o, out.data(), false); });
    INFO(f.what());
    CHECK(f.kind() == sim::FaultKind::SharedRace);
  }
}

TEST_CASE("harness: dynamic shared memory is sized by the launch", "[sim][harness]") {
  std::vector<float> x(48), y(48);
  std::iota(x.begin(), x.end(), 1.0f);
  sim::LaunchOptions o;
  o.dynamic_shared_bytes = 48 * sizeof(float);
  sim::launch(sim_test::dynamic_reverse_kernel, dim3(1), dim3(64), o, x.data(), y.data(), 48);
  for (int i = 0; i < 48; ++i) CHECK(y[static_cast<std::size_t>(i)] == x[static_cast<std::size_t>(47 - i)]);
  o.dynamic_shared_bytes = 47 * sizeof(float);
  const sim::KernelFault f = expect_fault(
      [&] { sim::launch(sim_test::dynamic_reverse_kernel, dim3(1), dim3(64), o, x.data(), y.data(), 48); });
  CHECK(f.kind() == sim::FaultKind::BadLaunch);
}

TEST_CASE("harness: misuse is reported under every schedule", "[sim][harness]") {
  std::vector<float> fout(64);
  std::vector<int> iout(64);
  for (const sim::LaunchOptions& o : schedules()) {
    INFO("schedule " << sim::schedule_name(o.schedule) << " seed " << o.seed);
    auto kind_of = [&](auto&& launch) {
      const sim::KernelFault f = expect_fault(launch);
      UNSCOPED_INFO(f.what());
      return f.kind();
    };
    CHECK(kind_of([&] { sim::launch(sim_test::uninitialized_kernel, dim3(1), dim3(32), o, fout.data()); }) ==
          sim::FaultKind::UninitializedSharedRead);
    CHECK(kind_of([&] { sim::launch(sim_test::stale_reference_kernel, dim3(1), dim3(32), o, fout.data()); }) ==
          sim::FaultKind::StaleSharedReference);
    CHECK(kind_of([&] { sim::launch(sim_test::early_return_kernel, dim3(1), dim3(64), o, fout.data(), 40); }) ==
          sim::FaultKind::BarrierDivergence);
    CHECK(kind_of([&] { sim::launch(sim_test::divergent_shuffle_kernel, dim3(1), dim3(32), o, iout.data()); }) ==
          sim::FaultKind::WarpDivergence);
    CHECK(kind_of([&] { sim::launch(sim_test::deadlock_kernel, dim3(1), dim3(32), o, iout.data()); }) ==
          sim::FaultKind::Deadlock);
    std::vector<int> ops(48 * sim_test::kWarpOpsPerLane);
    CHECK(kind_of([&] { sim::launch(sim_test::warp_ops_kernel, dim3(1), dim3(48), o, ops.data()); }) ==
          sim::FaultKind::WarpDivergence);  // 48 threads: the second warp has 16 lanes, a full mask names 32
    CHECK(kind_of([&] { sim::launch(sim_test::too_much_shared_kernel, dim3(1), dim3(32), o, fout.data()); }) ==
          sim::FaultKind::BadLaunch);
  }
  // Geometry CUDA rejects.
  CHECK(expect_fault([&] {
          sim::launch(sim_test::reduce64_kernel, dim3(1), dim3(1025), {}, fout.data(), fout.data());
        }).kind() == sim::FaultKind::BadLaunch);
  CHECK(expect_fault([&] {
          sim::launch(sim_test::reduce64_kernel, dim3(1, 70000), dim3(64), {}, fout.data(), fout.data());
        }).kind() == sim::FaultKind::BadLaunch);
  // Built-ins outside a kernel.
  CHECK_THROWS_AS(threadIdx.x, sim::KernelFault);
}
