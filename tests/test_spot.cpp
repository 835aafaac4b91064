// SPOT / DSPOT against the libspot v2 reference runs (../shared/reference, part B), field case F22,
// the two-sided mirror property, and the error paths. Reference files are found through
// RNNAD_REFERENCE_DIR (set by CTest; by hand: export RNNAD_REFERENCE_DIR=/work/shared/reference).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/spot.h"

namespace {

using rnnad::Spot;
using rnnad::SpotParams;
using rnnad::SpotRun;
using rnnad::SpotTails;

// The reference directory; FAILs (not skips) when it is not configured or missing.
std::filesystem::path reference_dir() {
  const char* env = std::getenv("RNNAD_REFERENCE_DIR");
  if (env == nullptr || *env == '\0') {
    FAIL(
        "RNNAD_REFERENCE_DIR is not set: the SPOT reference cases need ../shared/reference "
        "(CTest sets it; by hand: export RNNAD_REFERENCE_DIR=/work/shared/reference)");
  }
  const std::filesystem::path dir(env);
  if (!std::filesystem::is_directory(dir)) FAIL("RNNAD_REFERENCE_DIR = " << dir << " is not a directory");
  return dir;
}

// Column x of an "i,x" CSV file.
std::vector<double> read_series(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) FAIL("cannot open reference input " << path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<double> x;
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    if (comma == std::string::npos) continue;
    x.push_back(std::strtod(line.c_str() + comma + 1, nullptr));
  }
  return x;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) FAIL("cannot open reference output " << path);
  return nlohmann::json::parse(in);
}

// Relative error, with an absolute floor when the reference is 0.
double rel_err(double got, double want) {
  if (want == 0.0) return std::abs(got);
  return std::abs(got - want) / std::abs(want);
}

// Worst relative error per kind, over all reference cases (printed at the end of each case).
struct Worst {
  double value = 0.0;
  std::string where;
  void add(double e, const std::string& what) {
    if (e > value) {
      value = e;
      where = what;
    }
  }
};

void check_close(double got, double want, double rel, double abs_when_zero, const std::string& what, Worst& worst) {
  INFO(what << ": got " << got << ", want " << want);
  CHECK(std::isfinite(got));
  const double e = rel_err(got, want);
  worst.add(e, what);
  if (want == 0.0) {
    CHECK(std::abs(got) <= abs_when_zero);
  } else {
    CHECK(e <= rel);
  }
}

SpotParams reference_params(const nlohmann::json& settings) {
  SpotParams p;
  p.q = settings.at("q").get<double>();
  p.level = settings.at("level").get<double>();
  p.max_excess = settings.at("max_excess").get<std::size_t>();
  p.depth = settings.at("depth").get<std::size_t>();
  REQUIRE(settings.at("low").get<int>() == 0);
  REQUIRE(settings.at("discard_anomalies").get<int>() == 1);
  p.tails = SpotTails::Upper;
  return p;
}

// Matches the `libspot_order_statistic_threshold` block of <name>_expected.json as the reference
// README's "What to match" says.
void check_reference_case(const std::string& name, std::size_t min_peaks, rnnad::GpdRootSearch search) {
  const auto dir = reference_dir();
  const std::vector<double> x = read_series(dir / (name + "_input.csv"));
  const nlohmann::json all = read_json(dir / (name + "_expected.json"));
  const nlohmann::json& ref = all.at("libspot_order_statistic_threshold");
  SpotParams p = reference_params(all.at("settings"));
  p.min_peaks = min_peaks;
  p.root_search = search;
  const std::size_t n_cal = all.at("settings").at("n_init").get<std::size_t>();
  REQUIRE(x.size() > n_cal);

  const SpotRun run = rnnad::run_spot(x, n_cal, p);
  Worst w_param, w_z;

  // t: an input value for SPOT (exact); a residual mean for DSPOT (1e-12 relative).
  INFO(name << " t = " << run.upper_init.t);
  if (p.depth == 0) {
    CHECK(run.upper_init.t == ref.at("t").get<double>());
    CHECK(run.upper_final.t == ref.at("t_final").get<double>());
  } else {
    CHECK(rel_err(run.upper_init.t, ref.at("t").get<double>()) <= 1e-12);
    CHECK(run.upper_final.t == run.upper_init.t);
  }
  CHECK(run.upper_init.n == ref.at("n_init").get<std::size_t>());
  CHECK(run.upper_init.n == ref.at("n_calibration").get<std::size_t>());
  CHECK(run.upper_init.n_peaks == ref.at("Nt_init").get<std::size_t>());
  CHECK_FALSE(run.upper_init.fallback);
  check_close(run.upper_init.fit.gamma, ref.at("gamma_init"), 1e-6, 1e-9, name + " gamma_init", w_param);
  check_close(run.upper_init.fit.sigma, ref.at("sigma_init"), 1e-6, 1e-9, name + " sigma_init", w_param);
  check_close(run.upper_init.fit.log_likelihood, ref.at("loglik_init"), 1e-6, 1e-9, name + " loglik_init", w_param);
  check_close(run.upper_init.z, ref.at("z_init"), 1e-6, 1e-9, name + " z_init", w_z);

  // Alarms, counts: exactly.
  const auto alarms = ref.at("alarms").get<std::vector<std::size_t>>();
  CHECK(run.alarms == alarms);
  CHECK(run.alarms.size() == ref.at("n_alarms").get<std::size_t>());
  CHECK(run.n_excess_steps == ref.at("n_excess_steps").get<std::size_t>());
  const std::size_t steps = x.size() - n_cal;
  CHECK(steps - run.alarms.size() - run.n_excess_steps == ref.at("n_normal_steps").get<std::size_t>());
  CHECK(run.upper_final.n_peaks == ref.at("Nt_final").get<std::size_t>());
  CHECK(run.upper_final.n == ref.at("n_final").get<std::size_t>());
  CHECK(run.upper_final.peaks_held == std::min<std::size_t>(run.upper_final.n_peaks, p.max_excess));

  check_close(run.upper_final.fit.gamma, ref.at("gamma_final"), 1e-6, 1e-9, name + " gamma_final", w_param);
  check_close(run.upper_final.fit.sigma, ref.at("sigma_final"), 1e-6, 1e-9, name + " sigma_final", w_param);
  check_close(run.upper_final.z, ref.at("z_final"), 1e-6, 1e-9, name + " z_final", w_z);

  // Thresholds after stream steps 0, 100, ... and the last (data units; DSPOT: z + M).
  const auto& every = ref.at("thresholds_every_100");
  CHECK(every.size() >= 2);
  for (const auto& [key, value] : every.items()) {
    const std::size_t i = std::stoul(key);
    REQUIRE(i < run.threshold.size());
    check_close(run.threshold[i], value.get<double>(), 1e-6, 1e-9, name + " threshold[" + key + "]", w_z);
  }
  for (const double th : run.threshold) CHECK(std::isfinite(th));
  for (const double th : run.lower_threshold) CHECK(th == -std::numeric_limits<double>::infinity());

  std::cout << "[spot reference] " << name
            << (search == rnnad::GpdRootSearch::Libspot ? " (root_search Libspot)" : " (root_search Scan)")
            << ": worst rel. error gamma/sigma/loglik " << w_param.value << " (" << w_param.where << "), z/thresholds "
            << w_z.value << " (" << w_z.where << ")\n";
}

}  // namespace

TEST_CASE("SPOT matches libspot (order-statistic t), root_search Libspot", "[spot][reference]") {
  // libspot's own root search: every reference number, including spot_exp and dspot_drift,
  // where libspot misses the maximum-likelihood root (see the next test case).
  const auto libspot = rnnad::GpdRootSearch::Libspot;
  SECTION("spot_exp") { check_reference_case("spot_exp", 10, libspot); }
  SECTION("spot_t3abs") { check_reference_case("spot_t3abs", 10, libspot); }
  SECTION("dspot_drift") { check_reference_case("dspot_drift", 10, libspot); }
  // 7 peaks all equal to 1: γ = 0, σ = 1 (needs min_peaks <= 7); the stream's 1.0 values are
  // zero excesses (inclusive test), so z decays to t = 1 once the ring holds only zeros.
  SECTION("spot_degenerate") { check_reference_case("spot_degenerate", 7, libspot); }
}

TEST_CASE("SPOT matches libspot where libspot finds the maximum, root_search Scan (default)", "[spot][reference]") {
  const auto scan = rnnad::GpdRootSearch::Scan;
  SECTION("spot_t3abs") { check_reference_case("spot_t3abs", 10, scan); }
  SECTION("spot_degenerate") { check_reference_case("spot_degenerate", 7, scan); }
}

TEST_CASE("root_search Scan finds the maximum that libspot misses on spot_exp and dspot_drift", "[spot][reference]") {
  // libspot evaluates Grimshaw's w as UV − 1; next to x = 0 (where both search intervals end) that
  // is rounding noise of ~1e-16, so on these calibrations its Brent search finds no left root
  // (spot_exp) or converges into the noise at x ≈ −3e-8 (dspot_drift), and the method of moments
  // wins. The Scan search finds the left root, whose likelihood is higher.
  const auto dir = reference_dir();
  for (const std::string name : {"spot_exp", "dspot_drift"}) {
    INFO(name);
    const auto x = read_series(dir / (name + "_input.csv"));
    const auto all = read_json(dir / (name + "_expected.json"));
    const auto& ref = all.at("libspot_order_statistic_threshold");
    SpotParams p = reference_params(all.at("settings"));
    const std::span<const double> cal = std::span<const double>(x).first(2000);

    p.root_search = rnnad::GpdRootSearch::Libspot;
    Spot libspot(p);
    libspot.calibrate(cal);
    CHECK(libspot.upper().fit.estimator == rnnad::GpdEstimator::MethodOfMoments);

    p.root_search = rnnad::GpdRootSearch::Scan;
    Spot scan(p);
    scan.calibrate(cal);
    const auto& up = scan.upper();
    CHECK(up.n == ref.at("n_init").get<std::size_t>());
    CHECK(up.n_peaks == ref.at("Nt_init").get<std::size_t>());
    if (p.depth == 0) CHECK(up.t == ref.at("t").get<double>());
    CHECK(up.fit.estimator == rnnad::GpdEstimator::Grimshaw);
    CHECK(up.fit.gamma < 0.0);
    const double ll_ref = ref.at("loglik_init").get<double>();
    CHECK(up.fit.log_likelihood > ll_ref + 1e-3);

    // It is a local maximum of the likelihood of the calibration peaks.
    std::vector<double> peaks;
    if (p.depth == 0) {
      for (const double v : cal)
        if (v > up.t) peaks.push_back(v - up.t);
    } else {
      for (std::size_t j = 0; j + p.depth < cal.size(); ++j) {
        double sum = 0.0;
        for (std::size_t i = j; i < j + p.depth; ++i) sum += cal[i];
        const double r = cal[j + p.depth] - sum / static_cast<double>(p.depth);
        if (r > up.t) peaks.push_back(r - up.t);
      }
    }
    REQUIRE(peaks.size() == up.n_peaks);
    const double g = up.fit.gamma;
    const double sg = up.fit.sigma;
    const double ll = rnnad::gpd_log_likelihood(peaks, g, sg);
    CHECK(rel_err(ll, up.fit.log_likelihood) <= 1e-12);
    CHECK(rnnad::gpd_log_likelihood(peaks, g * 1.001, sg) < ll);
    CHECK(rnnad::gpd_log_likelihood(peaks, g * 0.999, sg) < ll);
    CHECK(rnnad::gpd_log_likelihood(peaks, g, sg * 1.001) < ll);
    CHECK(rnnad::gpd_log_likelihood(peaks, g, sg * 0.999) < ll);
    CHECK(rnnad::gpd_log_likelihood(peaks, ref.at("gamma_init").get<double>(), ref.at("sigma_init").get<double>()) <
          ll);

    // The default run over the stream stays finite and counts consistently.
    const SpotRun run = rnnad::run_spot(x, 2000, p);
    for (const double th : run.threshold) REQUIRE(std::isfinite(th));
    CHECK(run.upper_final.n == 2000 - p.depth + run.threshold.size() - run.alarms.size());
    CHECK(run.upper_final.n_peaks == up.n_peaks + run.n_excess_steps);
  }
}

TEST_CASE("root_search Scan never ends below libspot's likelihood", "[spot][gpd]") {
  // Excess sets of 2..500 values cut from the reference series (above their 0.9 quantile).
  const auto dir = reference_dir();
  int scan_better = 0;
  int sets = 0;
  for (const std::string name : {"spot_exp", "spot_t3abs", "dspot_drift"}) {
    const auto x = read_series(dir / (name + "_input.csv"));
    std::vector<double> sorted(x);
    std::sort(sorted.begin(), sorted.end());
    const double t = sorted[static_cast<std::size_t>(0.9 * static_cast<double>(x.size()))];
    std::vector<double> excess;
    for (const double v : x)
      if (v > t) excess.push_back(v - t);
    for (std::size_t len : {2, 3, 5, 10, 20, 40, 80, 160, 320, 500}) {
      for (std::size_t start = 0; start + len <= excess.size(); start += 97) {
        const std::span<const double> y(excess.data() + start, len);
        const auto a = rnnad::fit_gpd(y, rnnad::GpdRootSearch::Scan);
        const auto b = rnnad::fit_gpd(y, rnnad::GpdRootSearch::Libspot);
        INFO(name << " start " << start << " len " << len);
        REQUIRE(std::isfinite(a.log_likelihood));
        // Libspot may end a tiny bit higher only through a spurious "root" in the rounding noise
        // next to x = 0 (|x| ~ 1e-8, not a stationary point), worth ~1e-8 in log-likelihood.
        REQUIRE(a.log_likelihood >= b.log_likelihood - 1e-6 * std::max(1.0, std::abs(b.log_likelihood)));
        if (a.log_likelihood > b.log_likelihood + 1e-6) ++scan_better;
        ++sets;
      }
    }
  }
  std::cout << "[spot gpd] Scan above Libspot likelihood on " << scan_better << " of " << sets << " excess sets\n";
  CHECK(sets > 300);
}

TEST_CASE("spot_degenerate with the default min_peaks is a clear error", "[spot][reference]") {
  const auto x = read_series(reference_dir() / "spot_degenerate_input.csv");
  SpotParams p;
  p.q = 1e-3;
  Spot spot(p);
  try {
    spot.calibrate(std::span<const double>(x).first(2000));
    FAIL("expected rnnad::Error");
  } catch (const rnnad::Error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("SPOT: 7 peaks above initial threshold 1.0 (from 2000 "
                                           "calibration scores); need >= 10."));
  }
  CHECK_FALSE(spot.calibrated());
}

TEST_CASE("spot.py's wrong-signed exponential likelihood would pick gamma = 0 (documentation)", "[spot][reference]") {
  // algorithms.md §2.7 bug 1: spot.py scores the γ = 0 candidate with +N(1 + ln Ȳ). Check that
  // this reproduces its returned log-likelihood, σ and z, that the wrong value beats our best
  // fit (so spot.py picks γ = 0) and that the correct one, −N(1 + ln Ȳ), does not.
  const auto dir = reference_dir();
  for (const std::string name : {"spot_exp", "spot_t3abs"}) {
    INFO(name);
    const auto x = read_series(dir / (name + "_input.csv"));
    const auto all = read_json(dir / (name + "_expected.json"));
    const auto& py = all.at("python_reference_spot_py");
    const SpotRun run = rnnad::run_spot(x, 2000, reference_params(all.at("settings")));
    const double t = run.upper_init.t;
    CHECK(t == py.at("t").get<double>());
    std::vector<double> peaks;
    for (std::size_t i = 0; i < 2000; ++i) {
      if (x[i] > t) peaks.push_back(x[i] - t);
    }
    REQUIRE(peaks.size() == py.at("Nt_init").get<std::size_t>());
    const double nt = static_cast<double>(peaks.size());
    const double mean = std::accumulate(peaks.begin(), peaks.end(), 0.0) / nt;
    const double wrong = nt * (1.0 + std::log(mean));
    CHECK(py.at("gamma_init").get<double>() == 0.0);
    CHECK(rel_err(mean, py.at("sigma_init").get<double>()) <= 1e-12);
    CHECK(rel_err(wrong, py.at("loglik_init_as_returned").get<double>()) <= 1e-12);
    CHECK(wrong > run.upper_init.fit.log_likelihood);
    CHECK(-wrong < run.upper_init.fit.log_likelihood);
    const double correct_exp = rnnad::gpd_log_likelihood(peaks, 0.0, mean);
    CHECK(rel_err(correct_exp, -wrong) <= 1e-12);
    // Its z_init is SPOT's quantile at (γ = 0, σ = Ȳ).
    const double z_py =
        rnnad::spot_quantile(t, rnnad::GpdFit{0.0, mean, 0.0, rnnad::GpdEstimator::Exponential}, 1e-3, 2000.0, nt);
    CHECK(rel_err(z_py, py.at("z_init").get<double>()) <= 1e-12);
    // And our fit is the one libspot found (not γ = 0).
    CHECK(run.upper_init.fit.gamma != 0.0);
  }
}

TEST_CASE("F22: zero peaks above the initial threshold", "[spot][field]") {
  // 1000 scores s_i = 1 if i % 5 == 0 else 0; level 0.98, q = 1e-3: t = 1.0 and no value > 1.
  std::vector<double> cal(1000);
  for (std::size_t i = 0; i < cal.size(); ++i) cal[i] = i % 5 == 0 ? 1.0 : 0.0;
  SpotParams p;
  p.q = 1e-3;
  p.level = 0.98;
  const std::string expected =
      "SPOT: 0 peaks above initial threshold 1.0 (from 1000 calibration scores); need >= 10. Use more "
      "varied calibration data or a lower init level.";

  SECTION("default: a clear error at calibration, streaming and batch alike") {
    Spot spot(p);
    try {
      spot.calibrate(cal);
      FAIL("expected rnnad::Error");
    } catch (const rnnad::Error& e) {
      CHECK_THAT(e.what(), Catch::StartsWith(expected));
      CHECK_THAT(e.what(), Catch::Contains("min_peaks = 10"));
    }
    CHECK_FALSE(spot.calibrated());
    CHECK_THROWS_AS(spot.step(1.0), rnnad::Error);
    std::vector<double> series = cal;
    series.insert(series.end(), cal.begin(), cal.end());
    CHECK_THROWS_WITH(rnnad::run_spot(series, 1000, p), Catch::StartsWith(expected));
  }

  SECTION("fallback: finite threshold >= max(calibration), flagged, then the GPD takes over") {
    p.few_peaks = rnnad::SpotFewPeaks::Fallback;
    Spot spot(p);
    spot.calibrate(cal);
    REQUIRE(spot.calibrated());
    CHECK(spot.upper().fallback);
    CHECK(spot.upper().n_peaks == 0);
    CHECK(spot.upper().t == 1.0);
    CHECK(std::isfinite(spot.threshold()));
    CHECK(spot.threshold() >= *std::max_element(cal.begin(), cal.end()));
    CHECK(spot.upper().fit.estimator == rnnad::GpdEstimator::None);
    // The same 0/1 pattern streams on: no alarm; each 1.0 is a zero excess (x − t >= 0).
    for (std::size_t i = 0; i < 46; ++i) {
      const auto s = spot.step(cal[i]);
      CHECK_FALSE(s.is_alarm);
      CHECK(std::isfinite(s.threshold));
      CHECK(s.threshold >= 1.0);
      // 10 excesses (the ones at i = 0, 5, ..., 45) end the fallback.
      CHECK(s.fallback == (i < 45));
    }
    CHECK_FALSE(spot.upper().fallback);
    CHECK(spot.upper().n_peaks == 10);
    CHECK(spot.upper().fit.gamma == 0.0);
    CHECK(spot.upper().fit.sigma == 0.0);  // all excesses 0: point mass, z = t
    CHECK(spot.threshold() == 1.0);
    const auto s = spot.step(2.0);
    CHECK(s.is_alarm);
    CHECK(s.side == 1);
    CHECK(std::isfinite(s.threshold));
  }
}

TEST_CASE("F12: SPOT on flat scores and a single spike", "[spot][field]") {
  // Field case F12's series of 5000 scores: (A) all 0, (B) all 0 but s[4900] = 10, (C) all 0.3.
  // SPOT calibrates on the first 1000 (all equal: t = the level, no value above it, F22's case)
  // and streams the other 4000.
  const std::size_t n = 5000, n_cal = 1000;
  const std::vector<double> zeros(n, 0.0), flat(n, 0.3);
  const std::vector<double> spike = [&] {
    std::vector<double> s(n, 0.0);
    s[4900] = 10.0;
    return s;
  }();
  SpotParams p;
  p.q = 1e-3;

  SECTION("default: a flat calibration is a clear error, not a made-up threshold") {
    for (const auto* series : {&zeros, &flat})
      CHECK_THROWS_WITH(rnnad::run_spot(*series, n_cal, p), Catch::StartsWith("SPOT: 0 peaks above initial threshold"));
  }
  SECTION("fallback: finite thresholds equal to the level, nothing flagged on (A) and (C), only the spike on (B)") {
    p.few_peaks = rnnad::SpotFewPeaks::Fallback;
    for (const auto* series : {&zeros, &flat, &spike}) {
      const double level = (*series)[0];
      INFO("level " << level);
      const SpotRun r = rnnad::run_spot(*series, n_cal, p);
      REQUIRE(r.threshold.size() == n - n_cal);
      for (const double z : r.threshold) {
        CHECK(std::isfinite(z));
        CHECK(z == level);  // calibration extreme, then a point-mass GPD (all excesses 0): z = t
      }
      if (series == &spike) {
        CHECK(r.alarms == std::vector<std::size_t>{4900 - n_cal});
      } else {
        CHECK(r.alarms.empty());
      }
      CHECK_FALSE(r.upper_final.fallback);
      CHECK(r.upper_final.fit.sigma == 0.0);
    }
  }
}

TEST_CASE("Two-sided SPOT: the lower tail is the upper tail of the negated data", "[spot]") {
  const auto x = read_series(reference_dir() / "spot_exp_input.csv");
  std::vector<double> centred(x.begin(), x.begin() + 8000);
  for (double& v : centred) v -= 1.0;  // skewed: the tails differ
  std::vector<double> negated(centred.size());
  std::transform(centred.begin(), centred.end(), negated.begin(), [](double v) { return -v; });

  for (const std::size_t depth : {std::size_t{0}, std::size_t{10}}) {
    INFO("depth " << depth);
    SpotParams p;
    p.q = 1e-3;
    p.depth = depth;
    p.tails = SpotTails::Both;
    p.level = 0.9;  // the lower tail of a shifted exponential is short: keep enough peaks
    const SpotRun both = rnnad::run_spot(centred, 2000, p);
    const SpotRun both_neg = rnnad::run_spot(negated, 2000, p);
    REQUIRE(both.threshold.size() == 6000);
    CHECK(both.lower_threshold == [&] {
      std::vector<double> m(both_neg.threshold);
      for (double& v : m) v = -v;
      return m;
    }());
    CHECK(both.alarms == both_neg.alarms);
    CHECK(both.lower_init.t == -both_neg.upper_init.t);
    CHECK(both.lower_init.z == -both_neg.upper_init.z);
    CHECK(both.lower_final.fit.gamma == both_neg.upper_final.fit.gamma);
    CHECK(both.lower_final.fit.sigma == both_neg.upper_final.fit.sigma);
    CHECK(both.lower_init.t < both.upper_init.t);
    for (std::size_t i = 0; i < both.threshold.size(); ++i) {
      REQUIRE(both.lower_threshold[i] < both.threshold[i]);
    }

    // One-sided Lower on x is exactly one-sided Upper on −x.
    p.tails = SpotTails::Lower;
    const SpotRun lower = rnnad::run_spot(centred, 2000, p);
    p.tails = SpotTails::Upper;
    const SpotRun upper_neg = rnnad::run_spot(negated, 2000, p);
    CHECK(lower.alarms == upper_neg.alarms);
    for (std::size_t i = 0; i < lower.lower_threshold.size(); ++i) {
      REQUIRE(lower.lower_threshold[i] == -upper_neg.threshold[i]);
      REQUIRE(lower.threshold[i] == std::numeric_limits<double>::infinity());
    }
    CHECK(lower.lower_final.n == upper_neg.upper_final.n);
    CHECK(lower.lower_final.n_peaks == upper_neg.upper_final.n_peaks);
  }
}

TEST_CASE("Streaming steps equal the batch run", "[spot]") {
  const auto x = read_series(reference_dir() / "dspot_drift_input.csv");
  SpotParams p;
  p.q = 1e-3;
  p.depth = 10;
  p.tails = SpotTails::Both;
  p.level = 0.95;
  const SpotRun run = rnnad::run_spot(x, 2000, p);
  Spot spot(p);
  spot.calibrate(std::span<const double>(x).first(2000));
  CHECK(spot.threshold() == run.upper_init.z + spot.drift());
  std::vector<std::size_t> alarms;
  for (std::size_t i = 2000; i < x.size(); ++i) {
    const auto s = spot.step(x[i]);
    REQUIRE(s.threshold == run.threshold[i - 2000]);
    REQUIRE(s.lower_threshold == run.lower_threshold[i - 2000]);
    CHECK_FALSE(s.fallback);
    CHECK((s.is_alarm && s.is_excess) == false);
    if (s.is_alarm) alarms.push_back(i - 2000);
  }
  CHECK(alarms == run.alarms);
  CHECK(spot.upper().z == run.upper_final.z);
}

TEST_CASE("GPD fit: degenerate and tiny excess sets never give NaN", "[spot][gpd]") {
  using rnnad::fit_gpd;
  SECTION("all equal") {
    const std::vector<double> y(7, 1.0);
    const auto f = fit_gpd(y);
    CHECK(f.gamma == 0.0);
    CHECK(f.sigma == 1.0);
    CHECK(f.log_likelihood == -7.0);  // −N ln σ − ΣY/σ
    CHECK(f.estimator == rnnad::GpdEstimator::Exponential);
  }
  SECTION("all zero: point mass, z = t") {
    const std::vector<double> y(5, 0.0);
    const auto f = fit_gpd(y);
    CHECK(f.gamma == 0.0);
    CHECK(f.sigma == 0.0);
    CHECK(f.log_likelihood == std::numeric_limits<double>::infinity());
    CHECK(rnnad::spot_quantile(3.0, f, 1e-3, 1000.0, 5.0) == 3.0);
  }
  SECTION("one, two and a few excesses, with zeros") {
    const std::vector<std::vector<double>> sets = {{0.5},
                                                   {0.0, 1.0},
                                                   {1e-12, 3.0},
                                                   {0.0, 0.0, 2.0},
                                                   {0.1, 0.2, 0.3, 5.0},
                                                   {1e-300, 1.0, 1e300},
                                                   {4e-320, 1.0, 2.0}};
    for (const auto& y : sets) {
      const auto f = fit_gpd(y);
      INFO("n = " << y.size() << " gamma " << f.gamma << " sigma " << f.sigma);
      CHECK(std::isfinite(f.gamma));
      CHECK(std::isfinite(f.sigma));
      CHECK(f.sigma > 0.0);
      CHECK(!std::isnan(f.log_likelihood));
      CHECK(f.estimator != rnnad::GpdEstimator::None);
      CHECK(!std::isnan(rnnad::spot_quantile(1.0, f, 1e-3, 100.0, static_cast<double>(y.size()))));
    }
  }
  SECTION("excesses whose sum overflows: infinite scale, not NaN") {
    const std::vector<double> y = {1.7e308, 1.6e308, 1e308};
    const auto f = fit_gpd(y);
    CHECK_FALSE(std::isnan(f.gamma));
    CHECK_FALSE(std::isnan(f.sigma));
    CHECK_FALSE(std::isnan(f.log_likelihood));
    CHECK_FALSE(std::isnan(rnnad::spot_quantile(0.0, f, 1e-3, 100.0, 3.0)));
  }
  SECTION("the exponential MLE is a stationary point: Grimshaw never loses to gamma = 0") {
    std::vector<double> y;
    for (int i = 1; i <= 50; ++i) y.push_back(-std::log(1.0 - (i - 0.5) / 50.0));  // exp(1) quantiles
    const auto f = fit_gpd(y);
    CHECK(f.log_likelihood >= rnnad::gpd_log_likelihood(y, 0.0, std::accumulate(y.begin(), y.end(), 0.0) / 50.0));
    CHECK(std::abs(f.gamma) < 0.2);
  }
  SECTION("bad input") {
    CHECK_THROWS_WITH(fit_gpd(std::vector<double>{}), Catch::Contains("excesses is empty"));
    CHECK_THROWS_WITH(fit_gpd(std::vector<double>{1.0, -0.5}), Catch::Contains("excesses[1]"));
    CHECK_THROWS_WITH(fit_gpd(std::vector<double>{std::nan("")}), Catch::Contains("excesses[0]"));
  }
}

TEST_CASE("SPOT parameter and input errors name the parameter", "[spot]") {
  const auto make = [](auto edit) {
    SpotParams p;
    edit(p);
    return Spot(p);
  };
  CHECK_THROWS_WITH(make([](SpotParams& p) { p.level = 1.0; }), Catch::Contains("level = 1.0"));
  CHECK_THROWS_WITH(make([](SpotParams& p) { p.level = -0.1; }), Catch::Contains("level"));
  CHECK_THROWS_WITH(make([](SpotParams& p) { p.q = 0.0; }), Catch::Contains("q = 0.0"));
  CHECK_THROWS_WITH(make([](SpotParams& p) { p.q = 0.05; }), Catch::Contains("q = 0.05 must lie in (0, 1 - level)"));
  CHECK_THROWS_WITH(make([](SpotParams& p) { p.q = std::nan(""); }), Catch::Contains("q = nan"));
  CHECK_THROWS_WITH(make([](SpotParams& p) { p.min_peaks = 0; }), Catch::Contains("min_peaks"));
  CHECK_THROWS_WITH(make([](SpotParams& p) { p.max_excess = 5; }), Catch::Contains("max_excess = 5"));

  SpotParams p;
  p.depth = 10;
  Spot dspot(p);
  CHECK_THROWS_WITH(dspot.calibrate(std::vector<double>(10, 1.0)), Catch::Contains("depth + 1 = 11"));
  CHECK_THROWS_WITH(dspot.step(1.0), Catch::Contains("before calibrate"));
  Spot spot{SpotParams{}};
  CHECK_THROWS_WITH(spot.calibrate(std::vector<double>{}), Catch::Contains("need at least depth + 1 = 1"));
  CHECK_THROWS_WITH(spot.calibrate(std::vector<double>{1.0, std::nan(""), 2.0}), Catch::Contains("calibration[1]"));
  std::vector<double> cal(1000);
  for (std::size_t i = 0; i < cal.size(); ++i) cal[i] = static_cast<double>((i * 7919) % 1000);
  spot.calibrate(cal);
  CHECK(spot.upper().n_peaks == 19);  // values 981..999 above t = 980
  CHECK_THROWS_WITH(spot.step(std::numeric_limits<double>::infinity()), Catch::Contains("x = inf at stream step 0"));
  CHECK_NOTHROW(spot.step(5.0));
  CHECK(spot.upper().n == 1001);
}
