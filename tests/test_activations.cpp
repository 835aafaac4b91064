// Sigmoid and tanh of the CPU path against float64 over >= 10^7 inputs, and the exact
// saturation table of shared/docs/field_cases.md F18; the same for the AVX-512 versions of the
// tiled kernel (activations_avx512.h) when the build targets AVX-512.
#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "rnnad/cpu/activations.h"
#include "rnnad/cpu/activations_avx512.h"

using namespace rnnad::cpu;

namespace {

double sigmoid_ref(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

// The inputs: a dense sweep of [-30, 30], a log-spaced sweep of magnitudes 1e-30 .. FLT_MAX of
// both signs, random float bit patterns, and the special values of F18.
std::vector<float> inputs() {
  std::vector<float> xs;
  xs.reserve(10'500'000);
  const int dense = 6'000'000;
  for (int i = 0; i <= dense; ++i) xs.push_back(static_cast<float>(-30.0 + 60.0 * i / dense));
  for (int i = 0; i < 2'000'000; ++i) {
    const double mag = std::pow(10.0, -30.0 + 68.5 * i / 2'000'000.0);
    xs.push_back(static_cast<float>(mag));
    xs.push_back(static_cast<float>(-mag));
  }
  std::mt19937 gen(12345);
  for (int i = 0; i < 500'000; ++i) {
    float f = std::bit_cast<float>(static_cast<std::uint32_t>(gen()));
    if (std::isfinite(f)) xs.push_back(f);
  }
  for (float v : {0.0f, -0.0f, 1e4f, -1e4f, 100.0f, -100.0f, 88.8f, -88.8f, 20.0f, -20.0f, FLT_MAX, -FLT_MAX,
                  FLT_MIN, -FLT_MIN, FLT_TRUE_MIN, -FLT_TRUE_MIN})
    xs.push_back(v);
  return xs;
}

// Accuracy rule of Foundation II: relative error <= 1e-6, or absolute error <= 1e-7.
bool accurate(float got, double want) {
  const double err = std::abs(static_cast<double>(got) - want);
  return err <= 1e-7 || err <= 1e-6 * std::abs(want);
}

}  // namespace

TEST_CASE("sigmoid and tanh are accurate against float64 over 10^7 inputs", "[activations]") {
  const auto xs = inputs();
  REQUIRE(xs.size() >= 10'000'000);
  std::size_t bad_sigmoid = 0, bad_tanh = 0, non_finite = 0;
  double worst_s = 0, worst_t = 0;
  float worst_sx = 0, worst_tx = 0;
  for (float x : xs) {
    const float s = sigmoid_f32(x), t = tanh_f32(x);
    if (!std::isfinite(s) || !std::isfinite(t)) ++non_finite;
    const double rs = sigmoid_ref(x), rt = std::tanh(static_cast<double>(x));
    if (!accurate(s, rs)) ++bad_sigmoid;
    if (!accurate(t, rt)) ++bad_tanh;
    const double es = std::abs(s - rs) / std::max(std::abs(rs), 0.1), et = std::abs(t - rt) / std::max(std::abs(rt), 0.1);
    if (es > worst_s) worst_s = es, worst_sx = x;
    if (et > worst_t) worst_t = et, worst_tx = x;
  }
  INFO("inputs " << xs.size() << "; worst sigmoid error " << worst_s << " at x=" << worst_sx << "; worst tanh error "
                 << worst_t << " at x=" << worst_tx);
  CHECK(non_finite == 0);
  CHECK(bad_sigmoid == 0);
  CHECK(bad_tanh == 0);
}

TEST_CASE("F18: saturation is exact and never NaN", "[activations][field]") {
  struct Row {
    float x;
    double sigmoid, tanh;
  };
  const Row rows[] = {{-1e4f, 0, -1},       {-100, 3.72e-44, -1},   {-88.8f, 2.72e-39, -1}, {-20, 2.0611536e-9, -1},
                      {0, 0.5, 0},          {20, 1, 1},             {88.8f, 1, 1},          {100, 1, 1},
                      {1e4f, 1, 1}};
  for (const auto& r : rows) {
    INFO("x = " << r.x);
    CHECK(sigmoid_f32(r.x) == Approx(r.sigmoid).margin(1e-7));
    CHECK(tanh_f32(r.x) == Approx(r.tanh).margin(1e-7));
  }
  // Exact saturation values, bit for bit.
  CHECK(sigmoid_f32(20.0f) == 1.0f);
  CHECK(sigmoid_f32(FLT_MAX) == 1.0f);
  CHECK(sigmoid_f32(-FLT_MAX) == 0.0f);
  CHECK(sigmoid_f32(-1e4f) == 0.0f);
  CHECK(tanh_f32(10.0f) == 1.0f);
  CHECK(tanh_f32(-10.0f) == -1.0f);
  CHECK(tanh_f32(FLT_MAX) == 1.0f);
  CHECK(tanh_f32(-FLT_MAX) == -1.0f);
  CHECK(sigmoid_f32(0.0f) == 0.5f);
  CHECK(tanh_f32(0.0f) == 0.0f);
  CHECK(std::isnan(tanh_f32(NAN)));  // NaN in stays NaN: never silently turned into a number
}

TEST_CASE("exp_f32 is accurate over its whole range", "[activations]") {
  double worst = 0;
  for (int i = 0; i <= 2'000'000; ++i) {
    const float x = static_cast<float>(-87.0 + 175.7 * i / 2'000'000.0);  // normal results only
    const double want = std::exp(static_cast<double>(x));
    const double rel = std::abs(exp_f32(x) - want) / want;
    worst = std::max(worst, rel);
  }
  INFO("worst relative error " << worst);
  CHECK(worst < 5e-7);
  CHECK(std::isinf(exp_f32(89.0f)));
  CHECK(exp_f32(-200.0f) == 0.0f);
  CHECK(exp_f32(0.0f) == 1.0f);
}

#if defined(RNNAD_AVX512_ACTIVATIONS)
namespace {
// f applied to 16 floats at a time; the tail padded with zeros.
template <class F>
std::vector<float> apply16(F f, const std::vector<float>& xs) {
  std::vector<float> in = xs, out;
  in.resize((xs.size() + 15) / 16 * 16, 0.0f);
  out.resize(in.size());
  for (std::size_t i = 0; i < in.size(); i += 16) _mm512_storeu_ps(&out[i], f(_mm512_loadu_ps(&in[i])));
  out.resize(xs.size());
  return out;
}
float sigmoid16(float x) { return apply16(avx512::sigmoid_ps, std::vector<float>(1, x))[0]; }
float tanh16(float x) { return apply16(avx512::tanh_ps, std::vector<float>(1, x))[0]; }
}  // namespace

TEST_CASE("AVX-512 sigmoid and tanh are accurate against float64 over 10^7 inputs", "[activations]") {
  const auto xs = inputs();
  const auto s = apply16(avx512::sigmoid_ps, xs), t = apply16(avx512::tanh_ps, xs);
  std::size_t bad_sigmoid = 0, bad_tanh = 0, non_finite = 0;
  float first_bad = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(s[i]) || !std::isfinite(t[i])) ++non_finite;
    const bool ok_s = accurate(s[i], sigmoid_ref(xs[i])), ok_t = accurate(t[i], std::tanh(static_cast<double>(xs[i])));
    if ((!ok_s || !ok_t) && bad_sigmoid + bad_tanh == 0) first_bad = xs[i];
    bad_sigmoid += !ok_s;
    bad_tanh += !ok_t;
  }
  INFO("inputs " << xs.size() << "; first inaccurate x = " << first_bad);
  CHECK(non_finite == 0);
  CHECK(bad_sigmoid == 0);
  CHECK(bad_tanh == 0);
}

TEST_CASE("F18: AVX-512 saturation is exact, NaN stays NaN", "[activations][field]") {
  CHECK(sigmoid16(20.0f) == 1.0f);
  CHECK(sigmoid16(FLT_MAX) == 1.0f);
  CHECK(sigmoid16(-FLT_MAX) == 0.0f);
  CHECK(sigmoid16(-1e4f) == 0.0f);
  CHECK(sigmoid16(-100.0f) == 0.0f);
  CHECK(tanh16(10.0f) == 1.0f);
  CHECK(tanh16(9.5f) == 1.0f);
  CHECK(tanh16(-10.0f) == -1.0f);
  CHECK(tanh16(FLT_MAX) == 1.0f);
  CHECK(tanh16(-FLT_MAX) == -1.0f);
  CHECK(sigmoid16(0.0f) == 0.5f);
  CHECK(tanh16(0.0f) == 0.0f);
  CHECK(std::isnan(tanh16(NAN)));
  CHECK(std::isnan(sigmoid16(NAN)));
}
#else
TEST_CASE("AVX-512 activations: not built for AVX-512 (RNNAD_CPU_ARCH), the tiled kernel uses activations.h",
          "[activations]") {
  WARN("this build does not target AVX-512F/DQ: activations_avx512.h is not compiled");
}
#endif
