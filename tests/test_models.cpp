// Model kinds through the engine API: windows of a series, chunked stateful prediction,
// F10 (series shorter than the window) and kind/shape errors. Exactness against PyTorch for
// every kind is test_golden on tests/golden/models.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <vector>

#include "golden_model.h"
#include "rnnad/engine.h"
#include "rnnad/error.h"

using namespace rnnad;
using test::golden_model;

namespace {

std::vector<float> random_series(int64_t n, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> nd;
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = nd(gen);
  return v;
}

}  // namespace

TEST_CASE("run_windows gathers the series' windows", "[models]") {
  for (const char* name : {"recon_lstm_rev_bi1_l2", "attn_gru_l2", "pred_lstm_gauss_windowed_l2"}) {
    auto model = golden_model(std::string("models/") + name);
    const ModelConfig& mc = model->config();
    const int64_t T = mc.seq_len(), I = mc.input_size(), rows = 3 * T + 5, stride = 3;
    const auto series = random_series(rows * I, 1);
    Engine batched(model, {Device::Cpu, 0, 4, T});
    Engine single(model, {Device::Cpu, 0, 1, T});
    const int64_t windows = batched.window_count(rows, stride);
    CHECK(windows == (rows - T) / stride + 1);
    for (int64_t first = 0; first < windows; first += 4) {
      const int64_t count = std::min<int64_t>(4, windows - first);
      const WindowOutputs out = batched.run_windows(series.data(), rows, stride, first, count);
      for (int64_t w = 0; w < count; ++w) {
        // The same window built by hand and run alone.
        const float* start = series.data() + (first + w) * stride * I;
        std::vector<float> window(start, start + T * I);  // [T, 1, I] == rows of the series
        INFO(name << " window " << first + w);
        if (mc.model_kind == ModelKind::Prediction) {
          const int64_t P = mc.prediction.prediction_size();
          std::vector<float> pred(static_cast<std::size_t>(P));
          single.predict({window.data(), {T, 1, I}}, {pred.data(), {1, 1, P}});
          for (int64_t k = 0; k < P; ++k) CHECK(out.prediction.data[w * P + k] == Approx(pred[k]).margin(1e-6));
        } else {
          std::vector<float> recon(static_cast<std::size_t>(T * I));
          single.reconstruct({window.data(), {T, 1, I}}, {recon.data(), {T, 1, I}});
          for (int64_t t = 0; t < T; ++t)
            for (int64_t i = 0; i < I; ++i)
              CHECK(out.reconstruction.data[(t * count + w) * I + i] == Approx(recon[t * I + i]).margin(1e-6));
        }
      }
    }
  }
}

TEST_CASE("F10: a series shorter than the window is a clear error; boundary lengths are exact", "[models][field]") {
  auto model = golden_model("models/recon_gru_fwd_bi0_l1");
  const int64_t T = model->config().seq_len();
  Engine engine(model, {Device::Cpu, 0, 2, T});
  CHECK_THROWS_WITH(engine.window_count(T - 1, 1),
                    "series has " + std::to_string(T - 1) + " rows, the model's window needs " + std::to_string(T));
  CHECK(engine.window_count(T, 1) == 1);
  CHECK(engine.window_count(T + 1, 1) == 2);
  CHECK(engine.window_count(T + 1, 2) == 1);
  CHECK_THROWS_AS(engine.window_count(T, 0), ShapeError);
  const auto series = random_series(T * 3, 2);
  CHECK_THROWS_AS(engine.run_windows(series.data(), T, 1, 0, 2), ShapeError);  // only one window fits
}

TEST_CASE("F25: stateful prediction fed in chunks equals one pass", "[models][field]") {
  for (const char* name : {"pred_lstm_point_stateful_l2", "pred_gru_gauss_stateful_l1"}) {
    auto model = golden_model(std::string("models/") + name);
    const PredictionConfig& p = model->config().prediction;
    const int64_t N = 300, I = p.input_size, P = p.prediction_size(), LBH = p.num_layers * p.hidden_size;
    const bool lstm = p.cell == CellType::Lstm;
    const auto series = random_series(N * I, 3);
    Engine whole(model, {Device::Cpu, 0, 1, 64});  // max_seq_len 64: chunks inside one call, too
    std::vector<float> all(static_cast<std::size_t>(N * P));
    whole.predict_stateful({series.data(), {N, 1, I}}, {all.data(), {N, 1, P}});
    for (int64_t chunk : {1, 7, 300}) {
      Engine e(model, {Device::Cpu, 0, 1, 16});
      std::vector<float> pred(static_cast<std::size_t>(N * P)), h(static_cast<std::size_t>(LBH), 0.0f),
          c(static_cast<std::size_t>(LBH), 0.0f);
      for (int64_t start = 0; start < N; start += chunk) {
        const int64_t n = std::min(chunk, N - start);
        e.predict_stateful({series.data() + start * I, {n, 1, I}}, {pred.data() + start * P, {n, 1, P}},
                           {h.data(), {p.num_layers, 1, p.hidden_size}},
                           {lstm ? c.data() : nullptr, {p.num_layers, 1, p.hidden_size}});
      }
      double worst = 0;
      for (std::size_t k = 0; k < pred.size(); ++k) worst = std::max(worst, double(std::abs(pred[k] - all[k])));
      INFO(name << " chunk " << chunk);
      CHECK(worst <= 1e-6);
    }
  }
}

TEST_CASE("each kind exposes only its own calls", "[models]") {
  auto recon = golden_model("models/recon_lstm_fwd_bi0_l1");
  auto stateful = golden_model("models/pred_gru_point_stateful_l1");
  Engine r(recon, {Device::Cpu, 0, 1, 12});
  Engine s(stateful, {Device::Cpu, 0, 1, 12});
  std::vector<float> buf(1000);
  CHECK_THROWS_AS(r.predict({buf.data(), {12, 1, 3}}, {buf.data(), {1, 1, 6}}), UnsupportedError);
  CHECK_THROWS_AS(s.predict({buf.data(), {12, 1, 3}}, {buf.data(), {1, 1, 6}}), UnsupportedError);
  CHECK_THROWS_AS(s.window_count(100, 1), UnsupportedError);
  CHECK_THROWS_AS(r.forward({buf.data(), {12, 1, 3}}, {}, {}, {buf.data(), {12, 1, 8}}, {buf.data(), {1, 1, 8}}, {}),
                  UnsupportedError);
  CHECK_THROWS_WITH(r.reconstruct({buf.data(), {12, 1, 3}}, {buf.data(), {12, 1, 2}}),
                    "reconstruction: expected shape [12, 1, 3] (seq_len, batch, input_size), got [12, 1, 2]");
  CHECK_THROWS_AS(r.reconstruct({buf.data(), {12, 1, 3}}, {buf.data(), {12, 1, 3}}, {buf.data(), {12, 1, 12}}),
                  ShapeError);  // attention weights from a model without attention
}
