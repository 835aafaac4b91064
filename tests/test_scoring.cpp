// Scoring (docs/scoring.md) on hand-computed cases: normalisation with stored statistics (F13,
// F14), a constant-output model (F29), Mahalanobis by hand, boundary series lengths. Exactness
// against PyTorch for every kind and method is test_golden on tests/golden/scoring.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "model_builder.h"
#include "rnnad/error.h"
#include "rnnad/scoring.h"

using namespace rnnad;

using test::constant_model;  // F29's constant reconstruction model (model_builder.h)

TEST_CASE("F13: constant channels normalise without NaN; stored statistics are used exactly", "[scoring][field]") {
  auto model = constant_model({0.0f, 0.0f, 0.0f},
                              R"(, "normalization": {"method": "zscore", "mean": [20.075, 1.0, 10.0], "std": [0.2165, 0.0, 2.0],
                                   "features": ["temp_c", "valve", "load"]})");
  const NormalizationConfig& n = model->config().normalization;
  REQUIRE(n.constant_features == std::vector<int64_t>{1});  // "valve" is reported as constant
  const double raw[] = {20.1, 1.0, 14.0, 20.4, 0.0, 10.0};
  const auto x = normalize_rows(n, raw, 2, 3);
  CHECK(x[1] == 0.0);   // valve on training-like data
  CHECK(x[4] == -1.0);  // valve = 0.0 with the documented guard (scale 1)
  CHECK(x[2] == 2.0);   // (14 - 10) / 2 exactly: stored stats, not refitted (refit would give 1.732)
  for (double v : x) CHECK(std::isfinite(v));
}

TEST_CASE("F14: min-max statistics apply without clipping or refitting", "[scoring][field]") {
  auto model = constant_model({0.5f}, R"(, "normalization": {"method": "minmax", "min": [10], "max": [20], "features": ["load_kw"]},
                                          "scoring": {"method": "absolute"})");
  const double raw[] = {12, 15, 18, 40, 15, 15};
  const auto x = normalize_rows(model->config().normalization, raw, 6, 1);
  const double expected[] = {0.2, 0.5, 0.8, 3.0, 0.5, 0.5};
  for (int i = 0; i < 6; ++i) CHECK(x[static_cast<std::size_t>(i)] == Approx(expected[i]).epsilon(1e-15));
  Scorer scorer(model);
  const SeriesScores s = scorer.score(raw, 6);
  // Reconstruction is 0.5 everywhere: |x - 0.5| = 0.3, 0, 0.3, 2.5, 0, 0 - the 40 kW row is the largest.
  const double want[] = {0.3, 0.0, 0.3, 2.5, 0.0, 0.0};
  for (int i = 0; i < 6; ++i) CHECK(s.scores[static_cast<std::size_t>(i)] == Approx(want[i]).margin(1e-6));
}

TEST_CASE("F29: a constant-output model is reproduced exactly", "[scoring][field]") {
  auto model = constant_model({0.42f}, R"(, "scoring": {"method": "absolute", "pooling": "max"})");
  const double raw[] = {1.0, 0.42, -0.58, 0.42, 2.42, 0.42, 0.42};
  Scorer scorer(model);
  const SeriesScores s = scorer.score(raw, 7);
  const double want[] = {0.58, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0};
  for (int i = 0; i < 7; ++i) {
    INFO("row " << i);
    CHECK(s.scores[static_cast<std::size_t>(i)] == Approx(want[i]).margin(1e-7));
    CHECK(s.contributions[static_cast<std::size_t>(i)] == s.scores[static_cast<std::size_t>(i)]);
  }
}

TEST_CASE("Mahalanobis scores and contributions by hand", "[scoring]") {
  // Output 0 for both features, mean (0.1, 0.2), precision [[2, 0.5], [0.5, 1]].
  auto model = constant_model({0.0f, 0.0f}, R"(, "scoring": {"method": "mahalanobis"})",
                              {{"scoring.mean", {0.1, 0.2}}, {"scoring.precision", {2.0, 0.5, 0.5, 1.0}}});
  // Row (0.5, -0.4): u = |e| = (0.5, 0.4), d = u - mean = (0.4, 0.2),
  // L d = (2*0.4 + 0.5*0.2, 0.5*0.4 + 1*0.2) = (0.9, 0.4), terms = (0.36, 0.08), a = 0.44.
  std::vector<double> raw;
  for (int r = 0; r < 5; ++r) raw.insert(raw.end(), {0.5, -0.4});
  Scorer scorer(model);
  const SeriesScores s = scorer.score(raw.data(), 5);
  for (int r = 0; r < 5; ++r) {
    CHECK(s.scores[static_cast<std::size_t>(r)] == Approx(0.44).margin(1e-12));
    CHECK(s.contributions[static_cast<std::size_t>(2 * r)] == Approx(0.36).margin(1e-12));
    CHECK(s.contributions[static_cast<std::size_t>(2 * r + 1)] == Approx(0.08).margin(1e-12));
  }
}

TEST_CASE("series of exactly one window, shorter series, non-finite values", "[scoring][field]") {
  auto model = constant_model({0.0f}, R"(, "scoring": {"method": "squared", "stride": 2})");
  Scorer scorer(model);
  const double five[] = {1, 2, 3, 4, 5}, six[] = {1, 2, 3, 4, 5, 6};
  const SeriesScores one = scorer.score(five, 5);
  for (int i = 0; i < 5; ++i) CHECK(one.scores[static_cast<std::size_t>(i)] == Approx(five[i] * five[i]).margin(1e-9));
  // With stride 2, row 5 of a 6-row series is covered by no window: "no score", not dropped.
  const SeriesScores partial = scorer.score(six, 6);
  REQUIRE(partial.scores.size() == 6);
  CHECK(std::isnan(partial.scores[5]));
  CHECK(std::isnan(partial.contributions[5]));
  CHECK_THROWS_WITH(scorer.score(five, 4), "series has 4 rows, the model's window needs 5");
  const double bad[] = {1, 2, NAN, 4, 5};
  CHECK_THROWS_AS(scorer.score(bad, 5), FormatError);
  const double constant[] = {3, 3, 3, 3, 3, 3, 3};
  const SeriesScores flat = scorer.score(constant, 7);
  CHECK(flat.scores[0] == Approx(9.0));
}

TEST_CASE("scoring methods must fit the model kind", "[scoring]") {
  CHECK_THROWS_AS(Scorer(constant_model({0.0f}, R"(, "scoring": {"method": "gaussian_nll"})")), UnsupportedError);
  CHECK_THROWS_AS(Scorer(constant_model({0.0f}, R"(, "scoring": {"method": "lstm_ad"})")), UnsupportedError);
  CHECK_THROWS_AS(constant_model({0.0f}, R"(, "scoring": {"method": "mahalanobis"})"), FormatError);  // no statistics
}

TEST_CASE("a non-finite model output is an error, never a silent NaN score", "[scoring]") {
  const std::string config = R"({"format_version": 1, "kind": "reconstruction", "model": {"cell": "LSTM", "input_size": 1,
                                 "hidden_size": 4, "num_layers": 1, "decode": "forward", "seq_len": 3},
                                 "scoring": {"method": "absolute"}})";
  test::WeightMap w;
  w["output.weight"] = std::vector<float>(4, 3e38f);  // 4 hidden values of ~0.5 x 3e38 overflow float32
  w["encoder.weight_ih_l0"] = std::vector<float>(16, 1.0f);
  w["decoder.bias_ih_l0"] = std::vector<float>(16, 1.0f);
  Scorer scorer(Model::parse(test::build_model(config, w), "overflow-model"));
  const double raw[] = {1, 2, 3, 4};
  CHECK_THROWS_WITH(scorer.score(raw, 4), Catch::Matchers::Contains("overflow-model: the model's output for row") &&
                                              Catch::Matchers::Contains("is not finite"));
}
