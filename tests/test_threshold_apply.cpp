// A model file's threshold defaults (rnnad.config `threshold`), their overlay on rnnad's
// defaults, and apply_threshold over score series with "no score" rows (rnnad/threshold_apply.h,
// docs/thresholds.md "Applying a method to a series"). The methods themselves are tested against
// their references in test_telemanom.cpp and test_spot.cpp; here: the wiring.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <vector>

#include "model_builder.h"
#include "rnnad/error.h"
#include "rnnad/spot.h"
#include "rnnad/telemanom.h"
#include "rnnad/threshold_apply.h"
#include "rnnad/threshold_static.h"
#include "scratch_files.h"

using namespace rnnad;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ModelConfig config_with(const std::string& threshold) {
  return test::constant_model({0.0f}, R"(, "scoring": {"method": "absolute"}, "threshold": )" + threshold)->config();
}

/// 5 rows without a score, 600 of deterministic noise in [0.09, 0.11] with spikes at 300 and 560,
/// 3 rows without a score (a gap between segments), 400 more with a spike at 800.
std::vector<double> gapped_scores() {
  std::vector<double> s(5, kNaN);
  for (int t = 0; t < 600; ++t) s.push_back(0.1 + 0.01 * (((7919 * t) % 11) - 5) / 5.0);
  s.insert(s.end(), 3, kNaN);
  for (int t = 600; t < 1000; ++t) s.push_back(0.1 + 0.01 * (((7919 * t) % 11) - 5) / 5.0);
  s[305] = 5.0;
  s[565] = 3.0;
  s[808] = 4.0;
  return s;
}

std::vector<double> finite_only(const std::vector<double>& s) {
  std::vector<double> v;
  for (double x : s)
    if (!std::isnan(x)) v.push_back(x);
  return v;
}

}  // namespace

TEST_CASE("Threshold defaults of a model file are parsed strictly", "[thresholds][model]") {
  const ModelConfig c = config_with(
      R"({"method": "dspot", "value": 0.5, "calibration": "by hand", "spot": {"q": 0.01, "level": 0.9, "depth": 5}})");
  REQUIRE(c.threshold);
  CHECK(c.threshold->method == ThresholdMethod::Dspot);
  CHECK(*c.threshold->value == 0.5);
  CHECK(c.threshold->calibration == "by hand");
  CHECK(*c.threshold->spot_q == 0.01);
  CHECK(*c.threshold->spot_level == 0.9);
  CHECK(*c.threshold->spot_depth == 5);
  CHECK_FALSE(config_with(R"({"method": "static"})").threshold->value);
  CHECK_FALSE(test::constant_model({0.0f}, "")->config().threshold);

  test::require_format_error([] { config_with(R"({"method": "static", "vaule": 1})"); }, {"\"threshold.vaule\"", "is not part"});
  test::require_format_error([] { config_with(R"({"method": "median"})"); }, {"\"threshold.method\"", "static, ndt, spot, dspot"});
  test::require_format_error([] { config_with(R"({"method": "spot", "spot": {"q": 0.5, "level": 0.9}})"); },
                             {"\"threshold.spot.q\"", "(0, 1 - level)"});
  test::require_format_error([] { config_with(R"({"method": "spot", "spot": {"level": 1.0}})"); }, {"\"threshold.spot.level\""});
  test::require_format_error([] { config_with(R"({"method": "spot", "value": "high"})"); }, {"\"threshold.value\"", "finite number"});
  test::require_format_error([] { config_with(R"([1])"); }, {"\"threshold\"", "JSON object"});
}

TEST_CASE("The shipped NAB model's threshold defaults", "[thresholds][model][data]") {
  const char* dir = std::getenv("RNNAD_MODELS_DIR");
  REQUIRE(dir != nullptr);
  const auto model = Model::load(std::filesystem::path(dir) / "nab_machine_temp.safetensors");
  const auto& t = model->config().threshold;
  REQUIRE(t);
  CHECK(t->method == ThresholdMethod::Static);
  CHECK(*t->value == 0.4219069474314241);
  CHECK(t->calibration == "max_f1_injected");
  CHECK(*t->spot_q == 0.001);
  CHECK(*t->spot_level == 0.98);
  CHECK_FALSE(t->spot_depth);

  // Overlay on rnnad's defaults: the model's value for static, its q/level for SPOT and DSPOT.
  CHECK(*threshold_settings(ThresholdMethod::Static, t).value == 0.4219069474314241);
  const ThresholdSettings spot = threshold_settings(ThresholdMethod::Spot, t);
  CHECK_FALSE(spot.value);
  CHECK(spot.spot.q == 0.001);
  CHECK(spot.spot.depth == 0);
  CHECK(threshold_settings(ThresholdMethod::Dspot, t).spot.depth == ThresholdSettings::kDspotDepth);
  const ThresholdSettings ndt = threshold_settings(ThresholdMethod::Ndt, t);
  CHECK(ndt.ndt.l_s == 0);
  CHECK(ndt.ndt.batch_size == 70);
}

TEST_CASE("Default calibration rows: 15% of the scored rows, enough for SPOT's peaks", "[thresholds]") {
  ThresholdSettings s = threshold_settings(ThresholdMethod::Spot, std::nullopt);
  CHECK(s.spot.q == 1e-3);
  CHECK(s.spot.level == 0.98);
  CHECK(default_calibration_rows(22631, s) == 3394);  // floor(0.15 * 22631)
  // 501 values: t = sorted[trunc(0.98 * 501)] = sorted[490] leaves 501 - 491 = 10 peaks; 500 leave 9.
  CHECK(default_calibration_rows(2500, s) == 501);
  s.method = ThresholdMethod::Dspot;
  s.spot.depth = 10;
  CHECK(default_calibration_rows(2500, s) == 511);
  CHECK(default_calibration_rows(2500, threshold_settings(ThresholdMethod::Ndt, std::nullopt)) == 0);
  ThresholdSettings st = threshold_settings(ThresholdMethod::Static, std::nullopt);
  CHECK(default_calibration_rows(2500, st) == 375);
  CHECK(default_calibration_rows(3, st) == 1);
  st.value = 1.0;
  CHECK(default_calibration_rows(2500, st) == 0);
}

TEST_CASE("apply_threshold: static value and mean + k std skip rows without a score", "[thresholds]") {
  const std::vector<double> s = gapped_scores();
  ThresholdSettings st = threshold_settings(ThresholdMethod::Static, std::nullopt);
  st.value = 1.0;
  const RowThresholds fixed = apply_threshold(s, st);
  CHECK(fixed.calibration_rows == 0);
  CHECK(fixed.judged_rows == 1000);
  for (std::size_t r = 0; r < s.size(); ++r) {
    INFO("row " << r);
    CHECK(std::isnan(fixed.threshold[r]) == std::isnan(s[r]));
    CHECK(fixed.flags[r] == (s[r] > 1.0 ? 1 : 0));
  }
  CHECK(fixed.flags[305] == 1);
  CHECK(fixed.flags[808] == 1);

  st.value.reset();
  st.calibration_rows = 100;  // rows 5..104
  const RowThresholds fitted = apply_threshold(s, st);
  const std::vector<double> all = finite_only(s);
  const double t = threshold_mean_std(std::vector<double>(all.begin(), all.begin() + 100), 4.0);
  CHECK(fitted.initial == t);
  CHECK(fitted.calibration_rows == 100);
  CHECK(fitted.judged_rows == 900);
  CHECK(std::isnan(fitted.threshold[104]));
  CHECK(fitted.threshold[105] == t);
  for (std::size_t r = 0; r < s.size(); ++r) CHECK(fitted.flags[r] == (r >= 105 && s[r] > t ? 1 : 0));

  st.calibration_rows = 1000;  // all scored rows: nothing left to judge
  test::require_throws<Error>([&] { apply_threshold(s, st); }, {"threshold static", "1000", "choose 1 to 999"});
  test::require_throws<Error>([&] { apply_threshold(std::vector<double>(4, kNaN), st); }, {"no row has a score"});
}

TEST_CASE("apply_threshold: SPOT and DSPOT are run_spot over the scored rows", "[thresholds]") {
  const std::vector<double> s = gapped_scores();
  const std::vector<double> values = finite_only(s);
  for (ThresholdMethod m : {ThresholdMethod::Spot, ThresholdMethod::Dspot}) {
    INFO(threshold_method_name(m));
    ThresholdSettings st = threshold_settings(m, std::nullopt);
    st.spot.level = 0.9;  // noise with 11 levels: 0.98 leaves too few distinct peaks
    st.calibration_rows = 200;
    const RowThresholds r = apply_threshold(s, st);
    SpotParams p = st.spot;
    if (m == ThresholdMethod::Spot) p.depth = 0;
    const SpotRun ref = run_spot(values, 200, p);
    CHECK(r.calibration_rows == 200);
    if (m == ThresholdMethod::Spot) CHECK(r.initial == ref.upper_init.z);  // DSPOT's adds the drift
    // Map stream step i to its row: the (200 + i)-th scored row.
    std::vector<std::size_t> rows;
    for (std::size_t k = 0; k < s.size(); ++k)
      if (!std::isnan(s[k])) rows.push_back(k);
    std::vector<uint8_t> want(s.size(), 0);
    for (std::size_t a : ref.alarms) want[rows[200 + a]] = 1;
    CHECK(r.flags == want);
    CHECK(r.flags[305] == 1);
    // A row's threshold is the one in force before its step: for SPOT the previous step's (or the
    // calibrated one); for DSPOT that plus the drift the step uses, as a Spot stepped alongside says.
    Spot alongside(p);
    alongside.calibrate(std::vector<double>(values.begin(), values.begin() + 200));
    CHECK(r.threshold[rows[200]] == r.initial);
    for (std::size_t i = 0; i < ref.threshold.size(); ++i) {
      INFO("step " << i);
      CHECK(r.threshold[rows[200 + i]] == alongside.threshold());
      if (m == ThresholdMethod::Spot && i > 0) CHECK(r.threshold[rows[200 + i]] == ref.threshold[i - 1]);
      alongside.step(values[200 + i]);
    }
    CHECK(std::isnan(r.threshold[rows[199]]));
    CHECK(r.flags[rows[199]] == 0);
  }
  // Too few peaks (field case F22) is SPOT's own clear error.
  ThresholdSettings st = threshold_settings(ThresholdMethod::Spot, std::nullopt);
  st.calibration_rows = 200;
  test::require_throws<Error>([&] { apply_threshold(std::vector<double>(400, 1.0), st); }, {"SPOT: 0 peaks"});
}

TEST_CASE("apply_threshold: NDT runs Telemanom on each run of scored rows", "[thresholds]") {
  const std::vector<double> s = gapped_scores();
  ThresholdSettings st = threshold_settings(ThresholdMethod::Ndt, std::nullopt);
  st.ndt.batch_size = 50;
  st.ndt.window_size = 4;
  st.ndt.error_buffer = 2;
  const RowThresholds r = apply_threshold(s, st);
  std::vector<uint8_t> want(s.size(), 0);
  std::vector<double> want_threshold(s.size(), kNaN);
  for (auto [begin, end] : {std::pair<std::size_t, std::size_t>{5, 605}, {608, 1008}}) {
    const TelemanomResult t = telemanom_detect(std::span<const double>(s).subspan(begin, end - begin), st.ndt);
    for (int64_t k : t.flagged) want[begin + static_cast<std::size_t>(k)] = 1;
    for (const TelemanomWindow& w : t.windows)
      for (int64_t k = w.judge_start; k < w.end; ++k) want_threshold[begin + static_cast<std::size_t>(k)] = w.epsilon;
  }
  CHECK(r.flags == want);
  CHECK(r.flags[305] == 1);
  CHECK(r.flags[565] == 1);
  CHECK(r.flags[808] == 1);
  for (std::size_t k = 0; k < s.size(); ++k) {
    INFO("row " << k);
    CHECK((std::isnan(r.threshold[k]) ? std::isnan(want_threshold[k]) : r.threshold[k] == want_threshold[k]));
  }
  CHECK(r.calibration_rows == 0);
}
