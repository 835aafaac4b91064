// The CUDA backend's non-cell kernels (kernels/row_kernels.cuh: bias broadcast before a cuBLAS
// GEMM; kernels/attention.cuh: additive attention scores, softmax and context) compiled as host
// C++ and run through the CPU harness under forward, reverse and seeded-random schedules, against
// references computed here in double precision, with guard canaries around every output.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "attention.cuh"
#include "cell_case.h"
#include "rnnad/cuda/attention_kernel.h"
#include "rnnad/cuda/row_kernels.h"
#include "row_kernels.cuh"

using namespace rnnad;
using rnnad::test::GuardedBuffer;

namespace {

const sim::Schedule kSchedules[] = {sim::Schedule::Forward, sim::Schedule::Reverse, sim::Schedule::Random};

GuardedBuffer filled(std::mt19937& rng, std::size_t n, float scale) {
  std::uniform_real_distribution<float> d(-scale, scale);
  GuardedBuffer b(n);
  for (std::size_t i = 0; i < n; ++i) b.data()[i] = d(rng);
  return b;
}

std::vector<float> payload(const GuardedBuffer& b) { return {b.data(), b.data() + b.size()}; }

}  // namespace

TEST_CASE("sim: bias_rows fills every row and nothing else", "[sim][layers]") {
  std::mt19937 rng(5);
  for (int cols : {1, 80, 129})
    for (long long rows : {1LL, 7LL, 300LL}) {
      const int ld = cols + 3;
      GuardedBuffer bias = filled(rng, static_cast<std::size_t>(cols), 1.0f);
      for (sim::Schedule s : kSchedules) {
        INFO("rows " << rows << " cols " << cols << " schedule " << sim::schedule_name(s));
        GuardedBuffer y(static_cast<std::size_t>(rows) * static_cast<std::size_t>(ld), GuardedBuffer::canary());
        cuda::BiasRowsArgs a;
        a.y = y.data();
        a.bias = bias.data();
        a.rows = rows;
        a.cols = cols;
        a.ld_y = ld;
        cuda::check_bias_rows_args(a);
        const cuda::BiasRowsGeometry g = cuda::bias_rows_geometry(a);
        sim::LaunchOptions opt;
        opt.schedule = s;
        sim::launch(cuda::bias_rows_kernel, dim3(g.grid_x, g.grid_y), dim3(g.block_x), opt, a);
        CHECK(y.guard_damage("y") == "");
        for (long long r = 0; r < rows; ++r)
          for (int c = 0; c < ld; ++c) {
            const float v = y.data()[r * ld + c];
            if (c < cols) REQUIRE(v == bias.data()[c]);
            else REQUIRE(GuardedBuffer::is_canary(v));  // pad columns untouched
          }
      }
    }
}

TEST_CASE("sim: attention step matches a double-precision reference, every schedule", "[sim][layers]") {
  struct Shape {
    int T, B, A, Hk;
  };
  for (const Shape sh : {Shape{1, 1, 1, 1}, Shape{7, 3, 5, 9}, Shape{130, 2, 16, 33}, Shape{300, 1, 8, 200}}) {
    std::mt19937 rng(static_cast<std::uint32_t>(sh.T * 1000 + sh.Hk));
    const std::size_t T = static_cast<std::size_t>(sh.T), B = static_cast<std::size_t>(sh.B),
                      A = static_cast<std::size_t>(sh.A), Hk = static_cast<std::size_t>(sh.Hk);
    GuardedBuffer keys = filled(rng, T * B * A, 2.0f), q = filled(rng, B * A, 2.0f), v = filled(rng, A, 3.0f),
                  enc = filled(rng, T * B * Hk, 1.0f);
    // Reference: e(j) = v . tanh(q + k(j)), softmax over j, ctx = sum_j w(j) enc(j), in double.
    std::vector<float> ref_w(B * T), ref_ctx(B * Hk);
    for (std::size_t b = 0; b < B; ++b) {
      std::vector<double> e(T);
      double mx = -1e300, sum = 0;
      for (std::size_t j = 0; j < T; ++j) {
        double s = 0;
        for (std::size_t i = 0; i < A; ++i) s += double(v.data()[i]) * std::tanh(double(q.data()[b * A + i]) + double(keys.data()[(j * B + b) * A + i]));
        e[j] = s;
        mx = std::max(mx, s);
      }
      for (double& x : e) sum += (x = std::exp(x - mx));
      for (std::size_t j = 0; j < T; ++j) ref_w[b * T + j] = static_cast<float>(e[j] / sum);
      for (std::size_t i = 0; i < Hk; ++i) {
        double c = 0;
        for (std::size_t j = 0; j < T; ++j) c += e[j] / sum * double(enc.data()[(j * B + b) * Hk + i]);
        ref_ctx[b * Hk + i] = static_cast<float>(c);
      }
    }
    std::vector<float> first;
    for (sim::Schedule s : kSchedules) {
      INFO("T " << sh.T << " B " << sh.B << " A " << sh.A << " Hk " << sh.Hk << " schedule " << sim::schedule_name(s));
      GuardedBuffer w(B * T, GuardedBuffer::canary()), ctx(B * Hk, GuardedBuffer::canary());
      cuda::AttentionArgs a;
      a.keys = keys.data();
      a.q = q.data();
      a.v = v.data();
      a.enc = enc.data();
      a.weights = w.data();
      a.ctx = ctx.data();
      a.seq_len = sh.T;
      a.batch = sh.B;
      a.attention_size = sh.A;
      a.key_size = sh.Hk;
      a.ld_w = sh.T;
      a.ld_ctx = sh.Hk;
      cuda::check_attention_args(a);
      sim::LaunchOptions opt;
      opt.schedule = s;
      opt.seed = 17;
      sim::launch(cuda::attention_step_kernel, dim3(cuda::attention_grid(a)), dim3(cuda::kAttentionThreads), opt, a);
      CHECK(w.guard_damage("weights") == "");
      CHECK(ctx.guard_damage("ctx") == "");
      CHECK(test::compare(payload(w), ref_w, "weights") == "");
      CHECK(test::compare(payload(ctx), ref_ctx, "ctx") == "");
      if (first.empty()) first = payload(ctx);
      else CHECK(std::memcmp(first.data(), ctx.data(), first.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("sim: layer launch checks reject bad shapes", "[sim][layers]") {
  cuda::BiasRowsArgs b;
  CHECK_THROWS_AS(cuda::check_bias_rows_args(b), ShapeError);
  cuda::AttentionArgs a;
  a.seq_len = a.batch = a.attention_size = a.key_size = 1;
  a.ld_w = a.ld_ctx = 1;
  CHECK_THROWS_WITH(cuda::check_attention_args(a), Catch::Contains("must not be null"));
}
