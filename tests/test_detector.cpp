// Detector (rnnad/detector.h): scores per segment, rows without a score, the F29 output
// diagnostics (rnnad/output_diagnostics.h), and the Scorer's streaming of long series (a stateful
// forecaster in chunks, float and double rows).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "model_builder.h"
#include "rnnad/detector.h"
#include "rnnad/engine.h"
#include "rnnad/error.h"
#include "rnnad/output_diagnostics.h"
#include "rnnad/scoring.h"

using namespace rnnad;

namespace {

/// A series in memory: values [rows, 1] named "x", no timestamps.
Series column_series(const std::vector<float>& values) {
  Series s;
  s.source = "mem.csv";
  s.columns = {"x"};
  s.values = values;
  for (std::size_t r = 0; r < values.size(); ++r) s.lines.push_back(static_cast<int64_t>(r) + 2);
  return s;
}

DetectorOptions static_options(std::optional<double> value) {
  DetectorOptions o;
  o.threshold = threshold_settings(ThresholdMethod::Static, std::nullopt);
  o.threshold.value = value;
  return o;
}

}  // namespace

TEST_CASE("F29: detect reports a constant model output, with the numbers, and reproduces it exactly", "[detector][field]") {
  auto model = test::constant_model({0.42f}, R"(, "scoring": {"method": "absolute"})");
  const Series s = column_series({1.0f, 0.42f, -0.58f, 0.42f, 2.42f, 0.42f, 0.42f});
  Detector detector(model, static_options(std::nullopt));  // mean + 4 std of the first scored row
  const std::vector<SeriesSegment> all{{0, 7}};
  const DetectionResult r = detector.run(s, all);
  const double want[] = {0.58, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0};
  for (int i = 0; i < 7; ++i) CHECK(r.scores[static_cast<std::size_t>(i)] == Approx(want[i]).margin(1e-7));
  REQUIRE(r.diagnostics.size() == 1);
  INFO(r.diagnostics[0]);
  CHECK(r.diagnostics[0].rfind(
            "constant-model: model output is constant across 3 windows (std < 1e-7); scores reduce to |x - 0.42|", 0) == 0);
  CHECK(r.diagnostics[0].find("output std 0, input std 0.") != std::string::npos);
  // Thresholding stays finite (F12): the static rule on the calibration row gives 0.58.
  for (double t : r.threshold.threshold) CHECK((std::isnan(t) || std::isfinite(t)));
  CHECK(r.threshold.initial == Approx(0.58).margin(1e-7));
  CHECK(r.threshold.flags == std::vector<uint8_t>{0, 0, 1, 0, 1, 0, 0});

  // With a normalisation the formula is given in raw units.
  auto scaled = test::constant_model({0.5f}, R"(, "normalization": {"method": "zscore", "mean": [10], "std": [2]},
                                                  "scoring": {"method": "squared"})");
  Detector d2(scaled, static_options(1.0));
  const DetectionResult r2 = d2.run(s, all);
  REQUIRE(r2.diagnostics.size() == 1);
  CHECK(r2.diagnostics[0].find("scores reduce to ((x - 11) / 2)^2") != std::string::npos);
}

TEST_CASE("Output diagnostics: nearly constant outputs and a forecaster echoing its input", "[detector][field]") {
  auto model = test::constant_model({0.0f}, R"(, "scoring": {"method": "absolute"})");
  OutputSpread s;
  s.windows = 100;
  s.output.resize(1);
  s.input.resize(1);
  for (int i = 0; i < 100; ++i) {
    s.output[0].add(0.001 * (i % 2));
    s.input[0].add(i % 2 ? 1.0 : -1.0);
  }
  auto notes = diagnose_output_spread(s, model->config(), {0}, "m.safetensors");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].rfind("m.safetensors: model output is nearly constant across 100 windows: output std 0.0005, input std 1", 0) == 0);

  OutputSpread e = s;
  e.output[0] = e.input[0];  // the outputs move like the inputs ...
  for (int i = 0; i < 100; ++i) {
    e.echo.add(0.001);  // ... but each forecast sits next to the last input
    e.step.add(0.05);
  }
  notes = diagnose_output_spread(e, model->config(), {0}, "m.safetensors");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("the forecaster echoes its last input: mean |prediction - last input| 0.001 vs mean |next - last "
                      "input| 0.05") != std::string::npos);

  OutputSpread quiet = s;  // a constant input says nothing about the model
  quiet.input[0] = RunningStats{};
  for (int i = 0; i < 100; ++i) quiet.input[0].add(3.0);
  CHECK(diagnose_output_spread(quiet, model->config(), {0}, "m").empty());
  e.windows = 1;
  CHECK(diagnose_output_spread(e, model->config(), {0}, "m").empty());
}

TEST_CASE("Detector scores each segment on its own; rows between segments have no score", "[detector]") {
  auto model = test::constant_model({0.0f}, R"(, "scoring": {"method": "absolute"})");
  std::vector<float> v;
  for (int i = 0; i < 20; ++i) v.push_back(static_cast<float>(i % 4) - 1.5f);
  const Series s = column_series(v);
  Detector detector(model, static_options(1.2));
  const std::vector<SeriesSegment> usable{{0, 8}, {10, 20}};  // rows 8, 9: a segment too short for the window
  std::vector<int64_t> done;
  const DetectionResult r = detector.run(s, usable, [&](int64_t n, int64_t total) {
    CHECK(total == 18);
    done.push_back(n);
  });
  for (std::size_t i = 0; i < 20; ++i) {
    INFO("row " << i);
    CHECK(std::isnan(r.scores[i]) == (i == 8 || i == 9));
    if (!std::isnan(r.scores[i])) CHECK(r.scores[i] == Approx(std::abs(v[i])));
  }
  CHECK(r.scored_rows == 18);
  REQUIRE_FALSE(done.empty());
  CHECK(done.back() == 18);
  CHECK(r.threshold.flags[1] == 0);  // |-0.5|
  CHECK(r.threshold.flags[3] == 1);  // |1.5| > 1.2
  // |v| = 1.5 at i % 4 in {0, 3}: runs [0], [3, 4], [7] | [11, 12], [15, 16], [19] (none across 8, 9).
  CHECK(r.events.size() == 6);
  CHECK_THROWS_AS(detector.run(s, std::vector<SeriesSegment>{{15, 25}}), ShapeError);
}

TEST_CASE("Scorer streams a stateful forecaster in chunks with the same scores as one engine call", "[detector][scoring]") {
  const std::string config = R"({"format_version": 1, "kind": "prediction", "model": {"cell": "LSTM", "input_size": 2,
      "hidden_size": 5, "num_layers": 2, "horizon": 1, "targets": [1], "output": "point", "state": "stateful"},
      "scoring": {"method": "absolute"}})";
  const test::WeightMap w = test::random_model_weights(config, 7, 0.5f);
  auto model = Model::parse(test::build_model(config, w), "stateful");
  const int64_t N = 9000;  // more than two of the Scorer's 4096-row chunks
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> xf(static_cast<std::size_t>(2 * N));
  for (float& x : xf) x = u(rng);
  Scorer scorer(model);
  const SeriesScores got = scorer.score(xf.data(), N);
  const std::vector<double> xd(xf.begin(), xf.end());
  const SeriesScores from_double = scorer.score(xd.data(), N);  // float and double rows agree exactly
  for (int64_t r = 1; r < N; ++r) REQUIRE(from_double.scores[static_cast<std::size_t>(r)] == got.scores[static_cast<std::size_t>(r)]);

  Engine engine(model, {Device::Cpu, 0, 1, N});
  std::vector<float> pred(static_cast<std::size_t>(N));
  engine.predict_stateful({xf.data(), {N, 1, 2}}, {pred.data(), {N, 1, 1}});
  CHECK(std::isnan(got.scores[0]));
  for (int64_t r = 1; r < N; ++r) {
    const double want = std::abs(static_cast<double>(xf[static_cast<std::size_t>(2 * r + 1)]) - pred[static_cast<std::size_t>(r - 1)]);
    if (std::abs(got.scores[static_cast<std::size_t>(r)] - want) > 1e-6 * std::max(1.0, want)) {
      FAIL_CHECK("row " << r << ": " << got.scores[static_cast<std::size_t>(r)] << " vs " << want);
      break;
    }
  }
  CHECK(scorer.output_spread().windows == 2 * N);  // both calls
}
