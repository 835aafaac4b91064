// The CPU path's tiled kernel (cpu_reference/src/tiled_recurrence.h) against the Eigen reference
// kernel of the same RnnStack (Kernel::Eigen) on random weights: hidden sizes around the packet
// width, batches around the row block and the tile, several layers, given and zero states, with
// and without bias; a row's result must not depend on its position in the batch; saturating
// pre-activations stay exact (F18). PyTorch goldens of batch > 1 (test_golden, golden_full) run
// through this kernel too.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "rnnad/cpu/rnn_stack.h"

using namespace rnnad;
using Kernel = cpu::RnnStack::Kernel;

namespace {

struct Weights {
  std::vector<std::vector<float>> store;
  std::vector<RnnParams> params;
};

Weights random_weights(const RnnDims& d, bool bias, float scale, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-scale, scale);
  Weights w;
  w.store.reserve(static_cast<std::size_t>(4 * d.num_layers));
  const int64_t G = d.gate_size();
  for (int64_t l = 0; l < d.num_layers; ++l) {
    for (int64_t n : {G * d.layer_input_size(l), G * d.hidden_size, G, G}) {
      w.store.emplace_back(static_cast<std::size_t>(n));
      for (float& v : w.store.back()) v = u(rng);
    }
    const std::size_t k = w.store.size();
    w.params.push_back({w.store[k - 4].data(), w.store[k - 3].data(), bias ? w.store[k - 2].data() : nullptr,
                        bias ? w.store[k - 1].data() : nullptr, nullptr});
  }
  return w;
}

struct Result {
  std::vector<float> output, h_n, c_n;
};

Result run(const RnnDims& d, const Weights& w, Kernel kernel, int64_t T, int64_t B, const std::vector<float>& x,
           const std::vector<float>& h0, const std::vector<float>& c0) {
  cpu::RnnStack stack(d, w.params, B, T, kernel);
  CHECK(stack.tiled() == (kernel == Kernel::Auto));
  const auto LBH = static_cast<std::size_t>(d.num_layers * B * d.hidden_size);
  Result r{std::vector<float>(static_cast<std::size_t>(T * B * d.hidden_size), NAN), std::vector<float>(LBH, NAN),
           std::vector<float>(d.cell == CellType::Lstm ? LBH : 0, NAN)};
  stack.forward(T, B, x.data(), h0.empty() ? nullptr : h0.data(), c0.empty() ? nullptr : c0.data(), r.output.data(),
                r.h_n.data(), r.c_n.empty() ? nullptr : r.c_n.data());
  return r;
}

// Largest |a - b| / max(1, |b|); a non-finite value counts as infinitely far.
double max_scaled_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) return INFINITY;
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / std::max(1.0, std::abs(static_cast<double>(b[i]))));
  }
  return worst;
}

std::vector<float> random_vector(std::size_t n, float scale, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

}  // namespace

TEST_CASE("tiled kernel matches the Eigen reference kernel", "[cpu][tiled]") {
  std::mt19937 rng(20261130);
  int cases = 0;
  for (CellType cell : {CellType::Lstm, CellType::Gru})
    for (int64_t H : {1, 15, 16, 17, 33, 80})
      for (int64_t L : {1, 3})
        for (int64_t B : {1, 5, 47, 49, 97}) {
          const int64_t I = 1 + (H + B) % 9, T = 1 + (H * L + B) % 6;
          const bool state = (H + B) % 2 == 0, bias = B != 5;
          const RnnDims d{cell, I, H, L, 0, false};
          const Weights w = random_weights(d, bias, 1.0f / std::sqrt(static_cast<float>(H)) + 0.2f, rng);
          const auto x = random_vector(static_cast<std::size_t>(T * B * I), 2.0f, rng);
          const auto LBH = static_cast<std::size_t>(L * B * H);
          const auto h0 = state ? random_vector(LBH, 0.9f, rng) : std::vector<float>();
          const auto c0 = state && cell == CellType::Lstm ? random_vector(LBH, 2.0f, rng) : std::vector<float>();
          INFO((cell == CellType::Lstm ? "LSTM" : "GRU") << " I " << I << " H " << H << " L " << L << " T " << T << " B "
                                                        << B << (state ? " h0/c0" : " zero state")
                                                        << (bias ? "" : " no bias"));
          const Result ref = run(d, w, Kernel::Eigen, T, B, x, h0, c0);
          const Result got = run(d, w, Kernel::Auto, T, B, x, h0, c0);
          CHECK(max_scaled_error(got.output, ref.output) <= 2e-6);
          CHECK(max_scaled_error(got.h_n, ref.h_n) <= 2e-6);
          CHECK(max_scaled_error(got.c_n, ref.c_n) <= 2e-6);
          ++cases;
        }
  CHECK(cases == 120);
}

TEST_CASE("tiled kernel: a row's result does not depend on the batch around it", "[cpu][tiled]") {
  std::mt19937 rng(7);
  for (CellType cell : {CellType::Lstm, CellType::Gru}) {
    const int64_t I = 5, H = 37, L = 2, T = 4, B = 53;
    const RnnDims d{cell, I, H, L, 0, false};
    const Weights w = random_weights(d, true, 0.4f, rng);
    const auto x = random_vector(static_cast<std::size_t>(T * B * I), 1.5f, rng);
    const Result all = run(d, w, Kernel::Auto, T, B, x, {}, {});
    // Row b alone (batch 1) and three times (batch 3): the same bits as inside the batch.
    for (int64_t b : {0, 5, 47, 52})
      for (int64_t n : {1, 3}) {
        std::vector<float> xn(static_cast<std::size_t>(T * n * I));
        for (int64_t t = 0; t < T; ++t)
          for (int64_t k = 0; k < n; ++k) std::copy_n(x.begin() + (t * B + b) * I, I, xn.begin() + (t * n + k) * I);
        const Result few = run(d, w, Kernel::Auto, T, n, xn, {}, {});
        for (int64_t t = 0; t < T; ++t)
          for (int64_t j = 0; j < H; ++j) {
            INFO("row " << b << " alone in a batch of " << n << ", t " << t << " unit " << j);
            REQUIRE(few.output[static_cast<std::size_t>((t * n + n - 1) * H + j)] ==
                    all.output[static_cast<std::size_t>((t * B + b) * H + j)]);
          }
      }
  }
}

TEST_CASE("F18: tiled kernel saturates exactly and never makes NaN", "[cpu][tiled][field]") {
  // W_ih and b_ih of +-1e30, W_hh and b_hh zero, one input in [0.1, 0.9]: every pre-activation is
  // b + w x with |b| > |w x|, at least 1e29 from zero whatever the summation order, so each gate is
  // exactly 0 or 1 and each tanh exactly -1 or 1. h must be finite and agree with the Eigen kernel
  // (tanh of the small integers c then holds may differ in the last bit between the two codes).
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> in(0.1f, 0.9f);
  for (CellType cell : {CellType::Lstm, CellType::Gru}) {
    const int64_t I = 1, H = 20, L = 1, T = 6, B = 9;
    const RnnDims d{cell, I, H, L, 0, false};
    Weights w = random_weights(d, true, 1.0f, rng);
    for (float& f : w.store[0]) f = f < 0 ? -0.9e30f : 0.9e30f;  // weight_ih_l0
    std::fill(w.store[1].begin(), w.store[1].end(), 0.0f);       // weight_hh_l0
    for (float& f : w.store[2]) f = f < 0 ? -1e30f : 1e30f;     // bias_ih_l0
    std::fill(w.store[3].begin(), w.store[3].end(), 0.0f);       // bias_hh_l0
    std::vector<float> x(static_cast<std::size_t>(T * B * I));
    for (float& v : x) v = in(rng);
    const Result ref = run(d, w, Kernel::Eigen, T, B, x, {}, {});
    const Result got = run(d, w, Kernel::Auto, T, B, x, {}, {});
    CHECK(max_scaled_error(got.output, ref.output) <= 2e-7);
    CHECK(max_scaled_error(got.h_n, ref.h_n) <= 2e-7);
    CHECK(max_scaled_error(got.c_n, ref.c_n) == 0.0);  // sums of products of 0, 1 and -1: exact
  }
}
