// The Eigen recurrent path against hand-computed values and PyTorch goldens for the field cases
// of shared/docs/field_cases.md: F01, F03, F04, F05, F06, F08, F09, F18, F21.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "model_builder.h"
#include "rnnad/engine.h"
#include "rnnad/error.h"
#include "rnnad/validate.h"

using namespace rnnad;

namespace {

struct Outputs {
  std::vector<float> output, h_n, c_n;
};

// Runs a forward pass with PyTorch-shaped buffers; h0/c0 empty = not given.
Outputs run(const std::shared_ptr<const Model>& model, int64_t T, int64_t B, const std::vector<float>& x,
            const std::vector<float>& h0 = {}, const std::vector<float>& c0 = {}) {
  const RnnConfig& c = model->config().rnn;
  const int64_t LD = c.num_layers * c.num_directions(), H = c.hidden_size, Ho = c.output_size();
  const bool lstm = c.mode == CellType::Lstm;
  Engine engine(model, {Device::Cpu, 0, B, T});
  Outputs o{std::vector<float>(T * B * c.num_directions() * Ho), std::vector<float>(LD * B * Ho),
            std::vector<float>(lstm ? LD * B * H : 0)};
  engine.forward({x.data(), {T, B, c.input_size}}, {h0.empty() ? nullptr : h0.data(), {LD, B, Ho}},
                 {c0.empty() ? nullptr : c0.data(), {LD, B, H}}, {o.output.data(), {T, B, c.num_directions() * Ho}},
                 {o.h_n.data(), {LD, B, Ho}}, {lstm ? o.c_n.data() : nullptr, {LD, B, H}});
  return o;
}

std::filesystem::path golden(const char* name) {
  const char* dir = std::getenv("RNNAD_GOLDEN_DIR");
  REQUIRE(dir != nullptr);
  return std::filesystem::path(dir) / "field" / name;
}

RnnConfig config(CellType mode, int64_t in, int64_t hidden, int64_t layers = 1, bool bidir = false, int64_t proj = 0) {
  RnnConfig c;
  c.mode = mode;
  c.input_size = in;
  c.hidden_size = hidden;
  c.num_layers = layers;
  c.bidirectional = bidir;
  c.proj_size = proj;
  return c;
}

// F01's GRU, weights in PyTorch's r, z, n row-block order.
std::shared_ptr<const Model> f01_gru() {
  test::WeightMap w;
  w["weight_ih_l0"] = {0.5f, -0.3f, 0.8f, 0.2f, -0.6f, 1.1f};
  w["weight_hh_l0"] = {0.1f, -0.2f, 0.4f, 0.3f, -0.5f, 0.2f, 0.1f, 0.6f, 0.7f, -0.4f, -0.3f, 0.9f};
  w["bias_ih_l0"] = {0.05f, -0.1f, 0.0f, 0.1f, 0.2f, -0.2f};
  w["bias_hh_l0"] = {0.0f, 0.05f, -0.1f, 0.0f, 0.5f, -0.7f};
  return test::make_rnn_model(config(CellType::Gru, 1, 2), w);
}

}  // namespace

TEST_CASE("F01/F03: GRU applies the reset gate after W_hn h + b_hn and carries state across steps",
          "[rnn][gru][field]") {
  const auto o = run(f01_gru(), 3, 1, {1.0f, -2.0f, 0.5f});
  const double expected[3][2] = {{-0.027455, 0.231747}, {0.754292, -0.429683}, {0.650390, -0.360008}};
  for (int t = 0; t < 3; ++t)
    for (int j = 0; j < 2; ++j) {
      INFO("t=" << t << " j=" << j);
      CHECK(o.output[t * 2 + j] == Approx(expected[t][j]).margin(1e-5));
    }
  // The reset-before-matmul variant gives [0.033071, 0.083995] at t=0; the no-carry bug gives
  // [0.771150, -0.570564] at t=1: both are far outside the margin above.
  CHECK(o.h_n[0] == o.output[4]);
  CHECK(o.h_n[1] == o.output[5]);
}

TEST_CASE("F04: LSTM gate blocks are read in PyTorch's i, f, g, o order", "[rnn][lstm][field]") {
  test::WeightMap w;
  w["weight_ih_l0"] = {1, 2, 3, 4};
  w["weight_hh_l0"] = {-1, 0.5f, 2, -0.5f};
  w["bias_ih_l0"] = {0.1f, 0.2f, 0.3f, 0.4f};
  w["bias_hh_l0"] = {0, 0, 0, 0};
  auto model = test::make_rnn_model(config(CellType::Lstm, 1, 1), w);
  // T = 1 then T = 2 from the same initial state, so c after step 0 is observable too.
  const auto o1 = run(model, 1, 1, {0.5f}, {0.5f}, {0.25f});
  CHECK(o1.h_n[0] == Approx(0.554545).margin(1e-5));
  CHECK(o1.c_n[0] == Approx(0.723610).margin(1e-5));
  const auto o2 = run(model, 2, 1, {0.5f, -1.0f}, {0.5f}, {0.25f});
  CHECK(o2.output[0] == Approx(0.554545).margin(1e-5));
  CHECK(o2.output[1] == Approx(-0.000905).margin(1e-5));
  CHECK(o2.c_n[0] == Approx(-0.044644).margin(1e-5));
}

TEST_CASE("F18: saturating pre-activations give exact values, never NaN", "[rnn][lstm][field]") {
  test::WeightMap w;
  w["weight_ih_l0"] = {50, 50, 50, 50};
  w["weight_hh_l0"] = {0, 0, 0, 0};
  w["bias_ih_l0"] = {0, 0, 0, 0};
  w["bias_hh_l0"] = {0, 0, 0, 0};
  auto model = test::make_rnn_model(config(CellType::Lstm, 1, 1), w);
  const std::vector<float> x = {2, -2, 20, -20, 1e30f};
  const double h[] = {0.761594, 0, 0.761594, 0, 0.761594}, c[] = {1, 0, 1, 0, 1};
  // Step by step (T = 1..5) so that c is checked at every step, not only at the end.
  for (int64_t T = 1; T <= 5; ++T) {
    const auto o = run(model, T, 1, std::vector<float>(x.begin(), x.begin() + T));
    INFO("T=" << T);
    REQUIRE(std::isfinite(o.output[T - 1]));
    CHECK(o.output[T - 1] == Approx(h[T - 1]).margin(1e-6));
    CHECK(o.c_n[0] == Approx(c[T - 1]).margin(1e-6));
  }
}

namespace {

// `values` stored as a 16-bit safetensors tensor, rounded to nearest, ties to even, as the
// exporter's --dtype F16 / BF16 writes them (finite values; the exporter rejects overflow).
test::RawTensor half_tensor(const std::string& name, const std::vector<int64_t>& shape,
                            const std::vector<float>& values, bool bf16) {
  test::RawTensor t{name, bf16 ? "BF16" : "F16", shape, {}};
  for (float v : values) {
    std::uint16_t bits;
    if (bf16) {
      std::uint32_t u;
      std::memcpy(&u, &v, 4);
      bits = static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    } else {
      const _Float16 h = static_cast<_Float16>(v);
      std::memcpy(&bits, &h, 2);
    }
    t.bytes.push_back(static_cast<unsigned char>(bits & 0xffu));
    t.bytes.push_back(static_cast<unsigned char>(bits >> 8));
  }
  return t;
}

double relative_l2(const std::vector<float>& got, const std::vector<float>& ref) {
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    num += (double(got[i]) - double(ref[i])) * (double(got[i]) - double(ref[i]));
    den += double(ref[i]) * double(ref[i]);
  }
  return std::sqrt(num / den);
}

}  // namespace

TEST_CASE("F21: float16 and bfloat16 weights with fp32 accumulation stay within the documented tolerance",
          "[rnn][lstm][field]") {
  // (a) LSTM(8, 64), weights U(-1/8, 1/8), inputs N(0, 1), T = 200: the same weights stored as
  // F16 / BF16 (upcast exactly at load; every sum and activation stays fp32) against F32.
  // Documented tolerance (docs/model_format.md): relative L2 <= 2e-3 for F16, 1.6e-2 for BF16.
  const RnnConfig c = config(CellType::Lstm, 8, 64);
  const test::WeightMap w = test::random_rnn_weights(c, 2121, 0.125f);
  const auto f32 = test::make_rnn_model(c, w);
  const int64_t T = 200;
  for (bool bf16 : {false, true}) {
    std::vector<test::RawTensor> tensors;
    for (const auto& [name, shape] : expected_rnn_tensors(c))
      tensors.push_back(half_tensor(name, shape, w.at(name), bf16));
    const auto half = Model::parse(test::build_safetensors(tensors, {{"rnnad.config", test::rnn_config_json(c)}}),
                                   bf16 ? "f21-bf16" : "f21-f16");
    for (int64_t B : {int64_t{16}, int64_t{128}, int64_t{1000}}) {
      if (bf16 && B == 1000) continue;  // the field case's batch sweep is for F16
      std::mt19937 rng(static_cast<std::uint32_t>(B));
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<float> x(static_cast<std::size_t>(T * B * 8));
      for (float& v : x) v = normal(rng);
      const Outputs ref = run(f32, T, B, x), got = run(half, T, B, x);
      INFO((bf16 ? "BF16" : "F16") << " B=" << B);
      CHECK(std::all_of(got.output.begin(), got.output.end(), [](float v) { return std::isfinite(v); }));
      const double err = relative_l2(got.output, ref.output);
      CHECK(err <= (bf16 ? 1.6e-2 : 2e-3));
      CHECK(err > 0.0);  // the rounding did reach the weights
    }
  }
  // (b) An input far outside float16's range (70000, normalisation off): inputs stay fp32, so
  // the F16-weight model saturates like the F32 one instead of producing inf or NaN.
  std::vector<test::RawTensor> tensors;
  for (const auto& [name, shape] : expected_rnn_tensors(c))
    tensors.push_back(half_tensor(name, shape, w.at(name), false));
  const auto half = Model::parse(test::build_safetensors(tensors, {{"rnnad.config", test::rnn_config_json(c)}}), "f21");
  std::vector<float> x(8 * 3, 0.5f);
  x[9] = 70000.0f;  // step 1, feature 1
  const Outputs ref = run(f32, 3, 1, x), got = run(half, 3, 1, x);
  for (std::size_t i = 0; i < got.output.size(); ++i) {
    REQUIRE(std::isfinite(got.output[i]));
    CHECK(std::fabs(got.output[i] - ref.output[i]) <= 2e-3 * std::max(1.0f, std::fabs(ref.output[i])));
  }
}

TEST_CASE("F05: bidirectional output and h_n ordering", "[rnn][lstm][field]") {
  const auto cfg = config(CellType::Lstm, 2, 3, 2, true);
  const auto w = test::random_rnn_weights(cfg, 5, 0.5f);
  const int64_t T = 4, B = 2;
  std::vector<float> x(T * B * 2);
  for (int t = 0; t < T; ++t)
    for (int b = 0; b < B; ++b)
      for (int k = 0; k < 2; ++k) x[(t * B + b) * 2 + k] = static_cast<float>(0.1 * (t + 1) - 0.2 * b + 0.05 * k);
  const auto o = run(test::make_rnn_model(cfg, w), T, B, x);
  // output (4, 2, 6); h_n (4, 2, 3) ordered [l0 fwd, l0 bwd, l1 fwd, l1 bwd].
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < 3; ++j) {
      CHECK(o.h_n[(2 * B + b) * 3 + j] == o.output[(3 * B + b) * 6 + j]);      // h_n[2] == output[3, :, 0:3]
      CHECK(o.h_n[(3 * B + b) * 3 + j] == o.output[(0 * B + b) * 6 + 3 + j]);  // h_n[3] == output[0, :, 3:6]
    }

  SECTION("the reverse direction equals a unidirectional LSTM on the reversed sequence") {
    auto single = config(CellType::Lstm, 2, 3);
    test::WeightMap rw;
    for (const char* n : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
      rw[std::string(n) + "_l0"] = w.at(std::string(n) + "_l0_reverse");
    std::vector<float> xr(x.size());
    for (int t = 0; t < T; ++t) std::copy_n(x.begin() + (T - 1 - t) * B * 2, B * 2, xr.begin() + t * B * 2);
    auto two_layer_first = config(CellType::Lstm, 2, 3, 1, true);
    test::WeightMap w0;
    for (const auto& [name, v] : w)
      if (name.find("_l0") != std::string::npos) w0[name] = v;
    const auto layer0 = run(test::make_rnn_model(two_layer_first, w0), T, B, x);
    const auto rev = run(test::make_rnn_model(single, rw), T, B, xr);
    for (int t = 0; t < T; ++t)
      for (int b = 0; b < B; ++b)
        for (int j = 0; j < 3; ++j)
          CHECK(layer0.output[(t * B + b) * 6 + 3 + j] ==
                Approx(rev.output[((T - 1 - t) * B + b) * 3 + j]).margin(1e-7));
  }
  SECTION("swapping forward and _reverse weights changes the output") {
    auto swapped = w;
    for (const char* n : {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"})
      std::swap(swapped[n], swapped[std::string(n) + "_reverse"]);
    const auto s = run(test::make_rnn_model(cfg, swapped), T, B, x);
    double diff = 0;
    for (std::size_t i = 0; i < s.output.size(); ++i)
      diff = std::max(diff, double(std::abs(s.output[i] - o.output[i])));
    CHECK(diff > 1e-3);
  }
  SECTION("matches PyTorch") {
    const auto r = validate(Model::load(golden("f05_bilstm.safetensors")), golden("f05_bilstm.reference.safetensors"),
                            Device::Cpu);
    INFO(r.summary());
    CHECK(r.passed);
    const auto bad = validate(Model::load(golden("f05_bilstm_swapped.safetensors")),
                              golden("f05_bilstm.reference.safetensors"), Device::Cpu);
    INFO(bad.summary());
    CHECK_FALSE(bad.passed);
  }
}

TEST_CASE("F06: batch_first never applies to states; wrong state shapes are errors", "[rnn][field]") {
  SECTION("(a) batch == num_layers, exported from a batch_first module, matches PyTorch") {
    const auto r = validate(Model::load(golden("f06a_lstm_batch_first.safetensors")),
                            golden("f06a_lstm_batch_first.reference.safetensors"), Device::Cpu);
    INFO(r.summary());
    CHECK(r.passed);
  }
  SECTION("(b) batch-first h0 for an LSTM") {
    auto model = test::make_rnn_model(config(CellType::Lstm, 2, 3, 2),
                                      test::random_rnn_weights(config(CellType::Lstm, 2, 3, 2), 1, 0.5f));
    Engine engine(model, {Device::Cpu, 0, 3, 4});
    std::vector<float> x(4 * 3 * 2, 0.1f), h0(3 * 2 * 3, 0.0f), out(4 * 3 * 3), hn(2 * 3 * 3);
    CHECK_THROWS_WITH(engine.forward({x.data(), {4, 3, 2}}, {h0.data(), {3, 2, 3}}, {}, {out.data(), {4, 3, 3}},
                                     {hn.data(), {2, 3, 3}}, {}),
                      "h0: expected shape [2, 3, 3] (num_layers*num_directions, batch, hidden_size), got [3, 2, 3]");
  }
  SECTION("(c) GRU h0 with too many layers") {
    auto cfg = config(CellType::Gru, 4, 5, 2);
    Engine engine(test::make_rnn_model(cfg, test::random_rnn_weights(cfg, 2, 0.5f)), {Device::Cpu, 0, 3, 4});
    std::vector<float> x(4 * 3 * 4, 0.1f), h0(4 * 3 * 5, 0.0f), out(4 * 3 * 5), hn(2 * 3 * 5);
    CHECK_THROWS_AS(engine.forward({x.data(), {4, 3, 4}}, {h0.data(), {4, 3, 5}}, {}, {out.data(), {4, 3, 5}},
                                   {hn.data(), {2, 3, 5}}, {}),
                    ShapeError);
  }
}

TEST_CASE("F08: LSTM proj_size is supported and matches PyTorch", "[rnn][lstm][field]") {
  auto model = Model::load(golden("f08_lstm_proj.safetensors"));
  CHECK(model->config().rnn.proj_size == 2);
  CHECK(model->weight("weight_hh_l0").shape == std::vector<int64_t>{16, 2});
  const auto r = validate(model, golden("f08_lstm_proj.reference.safetensors"), Device::Cpu);
  INFO(r.summary());
  CHECK(r.passed);
}

TEST_CASE("F09: zero-length sequences and empty batches are clear errors", "[rnn][field]") {
  auto cfg = config(CellType::Gru, 3, 4);
  Engine engine(test::make_rnn_model(cfg, test::random_rnn_weights(cfg, 3, 0.5f)), {Device::Cpu, 0, 2, 8});
  std::vector<float> x(16 * 3), out(16 * 4), hn(2 * 4);
  CHECK_THROWS_WITH(engine.forward({x.data(), {0, 2, 3}}, {}, {}, {out.data(), {0, 2, 4}}, {hn.data(), {1, 2, 4}}, {}),
                    "sequence length must be >= 1 (got 0)");
  CHECK_THROWS_WITH(engine.forward({x.data(), {2, 0, 3}}, {}, {}, {out.data(), {2, 0, 4}}, {hn.data(), {1, 0, 4}}, {}),
                    "batch must be >= 1 (got 0)");
  CHECK_THROWS_AS(engine.forward({x.data(), {9, 2, 3}}, {}, {}, {out.data(), {9, 2, 4}}, {hn.data(), {1, 2, 4}}, {}),
                  ShapeError);  // above max_seq_len
  CHECK_THROWS_AS(engine.forward({x.data(), {2, 2, 4}}, {}, {}, {out.data(), {2, 2, 4}}, {hn.data(), {1, 2, 4}}, {}),
                  ShapeError);  // input_size mismatch
}

TEST_CASE("Device selection never falls back silently", "[engine]") {
  auto cfg = config(CellType::RnnTanh, 1, 2);
  auto model = test::make_rnn_model(cfg, test::random_rnn_weights(cfg, 4, 0.5f));
  CHECK_THROWS_AS(Engine(model, {Device::Cuda, 0, 1, 1}), UnsupportedError);
  Engine automatic(model, {Device::Auto, 0, 1, 1});
  CHECK(automatic.device() == Device::Cpu);
  CHECK_THROWS_AS(Engine(model, {Device::Cpu, 0, 0, 1}), ShapeError);
  CHECK(parse_device("cuda:1") == Device::Cuda);
  CHECK_THROWS_AS(parse_device("gpu"), Error);
}
