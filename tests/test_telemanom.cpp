// Telemanom's dynamic threshold (rnnad/telemanom.h) and the static thresholds
// (rnnad/threshold_static.h).
//
// Golden numbers come only from the reference files in $RNNAD_REFERENCE_DIR
// (../shared/reference, part A: khundman/telemanom @ 2e6c5b6c run unmodified) or from hand
// computation written out next to each check. Field cases F12 and F30:
// ../shared/docs/field_cases.md. Tolerances are those of the reference README ("What to match").
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/telemanom.h"
#include "rnnad/threshold_static.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The reference directory; a missing variable or directory FAILS the test (never a silent pass).
fs::path reference_dir() {
  const char* env = std::getenv("RNNAD_REFERENCE_DIR");
  if (env == nullptr || *env == '\0') {
    FAIL(
        "RNNAD_REFERENCE_DIR is not set: it must name ../shared/reference (CTest sets it; by hand: "
        "export RNNAD_REFERENCE_DIR=/work/shared/reference)");
  }
  const fs::path dir(env);
  if (!fs::exists(dir / "telemanom_expected.json")) {
    FAIL("RNNAD_REFERENCE_DIR=" << dir.string() << " does not hold telemanom_expected.json");
  }
  return dir;
}

// Columns of a numeric CSV file with one header line.
std::vector<std::vector<double>> read_csv(const fs::path& path) {
  std::ifstream in(path);
  if (!in) FAIL("cannot open " << path.string());
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> cols;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    size_t c = 0;
    while (std::getline(ss, cell, ',')) {
      if (cols.size() <= c) cols.emplace_back();
      cols[c++].push_back(std::stod(cell));
    }
  }
  return cols;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) FAIL("cannot open " << path.string());
  return json::parse(in);
}

// Largest relative error seen per category, printed once by the reference test.
struct Worst {
  double e_s = 0, stats = 0, epsilon = 0, percentiles = 0, scores = 0, non_anom_max = 0;
};

double rel_err(double got, double want) {
  if (got == want) return 0.0;
  return std::fabs(got - want) / std::fabs(want);
}

void check_rel(double got, double want, double tol, double& worst, const std::string& what) {
  INFO(what << ": got " << got << ", want " << want);
  const double r = rel_err(got, want);
  worst = std::max(worst, r);
  CHECK(std::isfinite(got));
  CHECK(r <= tol);
}

// Field case F30's deterministic noise in [0.09, 0.11].
std::vector<double> f30_noise(int64_t n) {
  std::vector<double> e(static_cast<size_t>(n));
  for (int64_t t = 0; t < n; ++t) {
    e[static_cast<size_t>(t)] = 0.1 + 0.01 * (static_cast<double>((7919 * t) % 11) - 5.0) / 5.0;
  }
  return e;
}

// Parameters for a plain error series: no smoothing, no l_s warm-up, shift or ignored rows.
rnnad::TelemanomParams plain_params() {
  rnnad::TelemanomParams p;
  p.l_s = 0;
  p.smoothing_perc = 0.0;
  return p;
}

void check_all_finite(const rnnad::TelemanomResult& r) {
  for (double v : r.e_s) REQUIRE(std::isfinite(v));
  for (const auto& w : r.windows) {
    REQUIRE(std::isfinite(w.mean_e_s));
    REQUIRE(std::isfinite(w.sd_e_s));
    REQUIRE(std::isfinite(w.epsilon));
    REQUIRE(std::isfinite(w.epsilon_inv));
    REQUIRE(std::isfinite(w.z));
    REQUIRE(std::isfinite(w.z_inv));
    if (w.non_anom_max) REQUIRE(std::isfinite(*w.non_anom_max));
    if (w.non_anom_max_inv) REQUIRE(std::isfinite(*w.non_anom_max_inv));
    for (const auto& s : w.scores) REQUIRE(std::isfinite(s.score));
  }
  for (const auto& s : r.scores) REQUIRE(std::isfinite(s.score));
  for (const auto& ev : r.events) REQUIRE(std::isfinite(ev.score));
}

// The window whose judged rows contain `row` (each row is judged by exactly one window).
const rnnad::TelemanomWindow& judging_window(const rnnad::TelemanomResult& r, int64_t row) {
  for (const auto& w : r.windows) {
    if (w.judge_start <= row && row < w.end) return w;
  }
  FAIL("no window judges row " << row);
  return r.windows.front();
}

// Score entries whose range contains `row`.
int64_t entries_covering(const rnnad::TelemanomResult& r, int64_t row) {
  int64_t n = 0;
  for (const auto& s : r.scores) n += (s.start_idx <= row && row <= s.end_idx) ? 1 : 0;
  return n;
}

// The reference inputs, rebuilt from the CSV files as the reference README describes.
struct ReferenceInputs {
  std::vector<double> e, y_hat, y_test;  // y_test: [N, 10] row-major, y_test[k][j] = s[k + j]
  int64_t n = 0, n_pred = 10;
};

ReferenceInputs load_reference_inputs(const fs::path& dir) {
  ReferenceInputs in;
  const auto err = read_csv(dir / "telemanom_errors.csv");
  const auto sig = read_csv(dir / "telemanom_signal.csv");
  REQUIRE(err.size() == 4);
  REQUIRE(sig.size() == 2);
  in.e = err[1];
  in.y_hat = err[2];
  in.n = static_cast<int64_t>(in.e.size());
  REQUIRE(in.n == 5000);
  REQUIRE(static_cast<int64_t>(sig[1].size()) == in.n + in.n_pred - 1);
  in.y_test.resize(static_cast<size_t>(in.n * in.n_pred));
  for (int64_t k = 0; k < in.n; ++k) {
    for (int64_t j = 0; j < in.n_pred; ++j) {
      in.y_test[static_cast<size_t>(k * in.n_pred + j)] = sig[1][static_cast<size_t>(k + j)];
    }
    REQUIRE(in.y_test[static_cast<size_t>(k * in.n_pred)] == err[3][static_cast<size_t>(k)]);  // y_test_0
  }
  return in;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reference numbers (reference README part A)
// ---------------------------------------------------------------------------------------------

TEST_CASE("telemanom reference: prediction errors and smoothed errors", "[telemanom][reference]") {
  const fs::path dir = reference_dir();
  const ReferenceInputs in = load_reference_inputs(dir);
  const json expected = read_json(dir / "telemanom_expected.json");

  // e = |y_hat − y_test[:, 0]| reproduces the file's e bit for bit (README: "checked").
  const std::vector<double> e = rnnad::telemanom_errors(in.y_hat, in.y_test, in.n_pred);
  REQUIRE(e.size() == in.e.size());
  for (size_t k = 0; k < e.size(); ++k) REQUIRE(e[k] == in.e[k]);

  rnnad::TelemanomParams params;  // config.yaml defaults; channel "X-1" → warm-up overwrite
  const std::vector<double> e_s = rnnad::telemanom_smooth(e, params);
  const auto smoothed = read_csv(dir / "telemanom_smoothed_errors.csv");
  REQUIRE(smoothed[1].size() == e_s.size());
  double worst = 0.0;
  int64_t bit_equal = 0;
  for (size_t k = 0; k < e_s.size(); ++k) {
    check_rel(e_s[k], smoothed[1][k], 1e-12, worst, "e_s[" + std::to_string(k) + "]");
    bit_equal += e_s[k] == smoothed[1][k] ? 1 : 0;
  }
  const auto& first20 = expected.at("e_s_first20");
  for (size_t k = 0; k < first20.size(); ++k) check_rel(e_s[k], first20[k].get<double>(), 1e-12, worst, "e_s_first20");
  for (const auto& [key, value] : expected.at("e_s_every500").items()) {
    check_rel(e_s[static_cast<size_t>(std::stoll(key))], value.get<double>(), 1e-12, worst,
              "e_s_every500[" + key + "]");
  }
  std::printf("telemanom reference: e_s worst relative error %.3g (%lld of %zu bit-identical)\n", worst,
              static_cast<long long>(bit_equal), e_s.size());
}

TEST_CASE("telemanom reference: windows, thresholds, flags, events and scores", "[telemanom][reference]") {
  const fs::path dir = reference_dir();
  const ReferenceInputs in = load_reference_inputs(dir);
  const json expected = read_json(dir / "telemanom_expected.json");
  const json& cfg = expected.at("config");

  rnnad::TelemanomParams params;
  params.l_s = cfg.at("l_s").get<int64_t>();
  params.batch_size = cfg.at("batch_size").get<int64_t>();
  params.window_size = cfg.at("window_size").get<int64_t>();
  params.smoothing_perc = cfg.at("smoothing_perc").get<double>();
  params.p = cfg.at("p").get<double>();
  params.error_buffer = cfg.at("error_buffer").get<int64_t>();
  const rnnad::TelemanomResult r = rnnad::telemanom_detect(in.e, params, rnnad::TelemanomTargets{in.y_test, in.n_pred});
  check_all_finite(r);

  REQUIRE(static_cast<int64_t>(r.e_s.size()) == expected.at("N").get<int64_t>());
  REQUIRE(r.smoothing_span == expected.at("smoothing_span").get<int64_t>());
  const json& windows = expected.at("windows");
  REQUIRE(static_cast<int64_t>(r.windows.size()) == expected.at("n_windows").get<int64_t>());
  REQUIRE(r.windows.size() == windows.size());

  Worst worst;
  auto spans_equal = [](const std::vector<rnnad::TelemanomSpan>& got, const json& want) {
    std::vector<std::pair<int64_t, int64_t>> g, w;
    for (const auto& s : got) g.emplace_back(s.start, s.end);
    for (const auto& s : want) w.emplace_back(s[0].get<int64_t>(), s[1].get<int64_t>());
    return g == w;
  };
  for (size_t i = 0; i < windows.size(); ++i) {
    const json& want = windows[i];
    const rnnad::TelemanomWindow& got = r.windows[i];
    INFO("window " << i);
    REQUIRE(got.index == want.at("window").get<int64_t>());
    CHECK(got.start == want.at("start").get<int64_t>());
    CHECK(got.end == want.at("end").get<int64_t>());
    CHECK(r.num_to_ignore == want.at("num_to_ignore").get<int64_t>());
    check_rel(got.mean_e_s, want.at("mean_e_s").get<double>(), 1e-9, worst.stats, "mean_e_s");
    check_rel(got.sd_e_s, want.at("sd_e_s").get<double>(), 1e-9, worst.stats, "sd_e_s");
    check_rel(got.sd_values, want.at("sd_values").get<double>(), 1e-9, worst.stats, "sd_values");
    check_rel(got.perc_high, want.at("perc_high").get<double>(), 1e-9, worst.percentiles, "perc_high");
    check_rel(got.perc_low, want.at("perc_low").get<double>(), 1e-9, worst.percentiles, "perc_low");
    check_rel(got.inter_range, want.at("inter_range").get<double>(), 1e-9, worst.percentiles, "inter_range");
    CHECK(got.z == want.at("z").get<double>());
    CHECK(got.z_inv == want.at("z_inv").get<double>());
    check_rel(got.epsilon, want.at("epsilon").get<double>(), 1e-9, worst.epsilon, "epsilon");
    check_rel(got.epsilon_inv, want.at("epsilon_inv").get<double>(), 1e-9, worst.epsilon, "epsilon_inv");
    CHECK(got.n_flagged_before_prune == want.at("n_flagged_before_prune").get<int64_t>());
    CHECK(got.n_flagged_before_prune_inv == want.at("n_flagged_before_prune_inv").get<int64_t>());
    if (want.contains("n_flagged_after_prune")) {  // present when the reference reached pruning
      CHECK(got.n_flagged_after_prune == want.at("n_flagged_after_prune").get<int64_t>());
      CHECK(got.n_flagged_after_prune_inv == want.at("n_flagged_after_prune_inv").get<int64_t>());
    }
    CHECK(spans_equal(got.seqs_before_prune, want.at("seqs_before_prune")));
    CHECK(spans_equal(got.seqs_before_prune_inv, want.at("seqs_before_prune_inv")));
    // The reference's −1000000 sentinel means "not computed".
    for (const auto& [opt, key] :
         {std::pair{&got.non_anom_max, "non_anom_max"}, std::pair{&got.non_anom_max_inv, "non_anom_max_inv"}}) {
      const double w = want.at(key).get<double>();
      INFO(key);
      if (w == -1000000.0) {
        CHECK_FALSE(opt->has_value());
      } else {
        REQUIRE(opt->has_value());
        check_rel(**opt, w, 1e-12, worst.non_anom_max, key);
      }
    }
    const json no_scores = json::array();
    const json& want_scores = want.contains("scores") ? want.at("scores") : no_scores;
    REQUIRE(got.scores.size() == want_scores.size());
    for (size_t j = 0; j < got.scores.size(); ++j) {
      CHECK(got.scores[j].start_idx == want_scores[j].at("start_idx").get<int64_t>());
      CHECK(got.scores[j].end_idx == want_scores[j].at("end_idx").get<int64_t>());
      check_rel(got.scores[j].score, want_scores[j].at("score").get<double>(), 1e-9, worst.scores, "window score");
    }
    // Judged rows: window 0 from num_to_ignore, later windows after the previous window's end.
    CHECK(got.judge_start == (i == 0 ? r.num_to_ignore : r.windows[i - 1].end));
  }
  // The reference never judges rows [4900, 4930) (algorithms.md §1.5); rnnad's last window does.
  CHECK(r.windows.back().judge_start == 4900);

  // All flagged error-stream rows, in the reference's accumulation order (ascending here).
  const auto want_flagged = expected.at("flagged_indices").get<std::vector<int64_t>>();
  CHECK(r.flagged == want_flagged);

  // Events shifted by l_s: [[1653, 1919], [3400, 3680]].
  const json& want_events = expected.at("E_seq_shifted_by_l_s");
  REQUIRE(r.events.size() == want_events.size());
  for (size_t j = 0; j < r.events.size(); ++j) {
    CHECK(r.events[j].series_start == want_events[j][0].get<int64_t>());
    CHECK(r.events[j].series_end == want_events[j][1].get<int64_t>());
    CHECK(r.events[j].start == want_events[j][0].get<int64_t>() - params.l_s);
    CHECK(r.events[j].end == want_events[j][1].get<int64_t>() - params.l_s);
  }

  // anom_scores: per-window entries, not merged (the last one is the single row 3430).
  const json& want_scores = expected.at("anom_scores");
  REQUIRE(r.scores.size() == want_scores.size());
  std::vector<double> event_max(r.events.size(), 0.0);
  for (size_t j = 0; j < r.scores.size(); ++j) {
    const auto s0 = want_scores[j].at("start_idx").get<int64_t>();
    const auto s1 = want_scores[j].at("end_idx").get<int64_t>();
    const auto sv = want_scores[j].at("score").get<double>();
    CHECK(r.scores[j].start_idx == s0);
    CHECK(r.scores[j].end_idx == s1);
    check_rel(r.scores[j].score, sv, 1e-9, worst.scores, "anom_scores");
    for (size_t k = 0; k < r.events.size(); ++k) {
      if (s0 <= r.events[k].end && s1 >= r.events[k].start) event_max[k] = std::max(event_max[k], sv);
    }
  }
  // An event's score is the largest reference entry inside it (what merge_scores meant to do).
  for (size_t k = 0; k < r.events.size(); ++k)
    check_rel(r.events[k].score, event_max[k], 1e-9, worst.scores, "event score");

  std::printf(
      "telemanom reference: worst relative errors: mean/sd %.3g, percentiles %.3g, epsilon %.3g, "
      "scores %.3g, non_anom_max %.3g\n",
      worst.stats, worst.percentiles, worst.epsilon, worst.scores, worst.non_anom_max);
}

// ---------------------------------------------------------------------------------------------
// Algorithm pieces by hand
// ---------------------------------------------------------------------------------------------

TEST_CASE("ewm_mean is pandas' adjust=True EWMA", "[telemanom]") {
  // span 3 → α = 1/2. x = 1, 0, 0: y0 = 1, y1 = (½·1)/(1 + ½) = 1/3, y2 = (¼·1)/(1 + ½ + ¼) = 1/7.
  const std::vector<double> y = rnnad::ewm_mean(std::vector<double>{1.0, 0.0, 0.0}, 3.0);
  REQUIRE(y.size() == 3);
  CHECK(y[0] == 1.0);
  CHECK(std::fabs(y[1] - 1.0 / 3.0) <= 1e-16);
  CHECK(std::fabs(y[2] - 1.0 / 7.0) <= 1e-16);
  // span 1 is the identity; a constant series stays exactly constant.
  const std::vector<double> x{0.5, -2.0, 7.25};
  CHECK(rnnad::ewm_mean(x, 1.0) == x);
  const std::vector<double> c(100000, 0.3);
  CHECK(rnnad::ewm_mean(c, 105.0) == c);
  CHECK(rnnad::ewm_mean(std::vector<double>{}, 5.0).empty());
  CHECK_THROWS_WITH(rnnad::ewm_mean(x, 0.5), Catch::Contains("span"));
  CHECK_THROWS_WITH(rnnad::ewm_mean(std::vector<double>{1.0, NAN}, 3.0), Catch::Contains("x[1]"));
}

TEST_CASE("telemanom pruning removes a sequence close to the baseline (the reference's crash path)", "[telemanom]") {
  // One window over 1000 rows of F30 noise (0.09..0.11) with e[300] = 0.2 and e[600] = 0.12.
  // sd_lim = 3 leaves the single candidate z = 2.5: σ ≈ 0.0071, ε ≈ 0.1 + 2.5·0.0071 ≈ 0.118,
  // so both 0.2 and 0.12 are above ε and the noise is not. With error_buffer 2 the sequences are
  // [298, 302] and [598, 602]; sorted maxima 0.2, 0.12 and the baseline 0.11 (largest other
  // row): drops 0.4 and 0.0833. With p = 0.13 the last drop >= p is the first: [598, 602] goes.
  std::vector<double> e = f30_noise(1000);
  e[300] = 0.2;
  e[600] = 0.12;
  rnnad::TelemanomParams p = plain_params();
  p.history = 1000;
  p.error_buffer = 2;
  p.sd_lim = 3.0;
  const rnnad::TelemanomResult r = rnnad::telemanom_detect(e, p);
  REQUIRE(r.windows.size() == 1);
  const auto& w = r.windows[0];
  CHECK(w.z == 2.5);
  CHECK(w.epsilon < 0.12);
  CHECK(w.epsilon > 0.11);
  REQUIRE(w.seqs_before_prune.size() == 2);
  CHECK(w.seqs_before_prune[0].start == 298);
  CHECK(w.seqs_before_prune[0].end == 302);
  CHECK(w.seqs_before_prune[1].start == 598);
  CHECK(w.seqs_before_prune[1].end == 602);
  REQUIRE(w.non_anom_max.has_value());
  CHECK(*w.non_anom_max == e[1]);  // 0.11: (7919·1) mod 11 = 10
  CHECK(w.n_flagged_before_prune == 10);
  CHECK(w.n_flagged_after_prune == 5);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].start == 298);
  CHECK(r.events[0].end == 302);

  // p = 0.05: the drop 0.12 → 0.11 (0.0833) is large enough, both sequences stay.
  p.p = 0.05;
  const rnnad::TelemanomResult r2 = rnnad::telemanom_detect(e, p);
  CHECK(r2.windows[0].n_flagged_after_prune == 10);
  CHECK(r2.events.size() == 2);
  // p = 0.5: no drop reaches it, both go.
  p.p = 0.5;
  const rnnad::TelemanomResult r3 = rnnad::telemanom_detect(e, p);
  CHECK(r3.windows[0].n_flagged_after_prune == 0);
  CHECK(r3.flagged.empty());
  CHECK(r3.scores.empty());
}

TEST_CASE("telemanom judges the reference's never-flaggable tail rows (algorithms.md §1.5)", "[telemanom]") {
  // N = 2347, h = 2100, batch 70: windows [0,2100), [70,2170), [140,2240), [210,2347). The
  // reference's last window judges only [2277, 2347), so rows 2240..2276 are never judged.
  // rnnad's last window judges [2240, 2347). A spike at 2250 on F30 noise is found.
  std::vector<double> e = f30_noise(2347);
  e[2250] = 5.0;
  rnnad::TelemanomParams p = plain_params();
  p.error_buffer = 2;
  const rnnad::TelemanomResult r = rnnad::telemanom_detect(e, p);
  REQUIRE(r.windows.size() == 4);
  CHECK(r.windows[3].start == 210);
  CHECK(r.windows[3].end == 2347);
  CHECK(r.windows[3].judge_start == 2240);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].start == 2248);
  CHECK(r.events[0].end == 2252);
  check_all_finite(r);
}

TEST_CASE("telemanom parameters and inputs are validated", "[telemanom]") {
  const std::vector<double> e = f30_noise(300);
  auto throws_naming = [&](void (*edit)(rnnad::TelemanomParams&), const char* name) {
    rnnad::TelemanomParams p;
    edit(p);
    INFO(name);
    CHECK_THROWS_AS(rnnad::telemanom_detect(e, p), rnnad::Error);
    CHECK_THROWS_WITH(rnnad::telemanom_detect(e, p), Catch::Contains(name));
  };
  throws_naming([](rnnad::TelemanomParams& p) { p.l_s = -1; }, "l_s");
  throws_naming([](rnnad::TelemanomParams& p) { p.batch_size = 0; }, "batch_size");
  throws_naming([](rnnad::TelemanomParams& p) { p.window_size = 0; }, "window_size");
  throws_naming([](rnnad::TelemanomParams& p) { p.smoothing_perc = -0.1; }, "smoothing_perc");
  throws_naming([](rnnad::TelemanomParams& p) { p.smoothing_perc = NAN; }, "smoothing_perc");
  throws_naming([](rnnad::TelemanomParams& p) { p.error_buffer = -1; }, "error_buffer");
  throws_naming([](rnnad::TelemanomParams& p) { p.p = NAN; }, "p must");
  throws_naming([](rnnad::TelemanomParams& p) { p.sd_lim = 2.0; }, "sd_lim");
  throws_naming([](rnnad::TelemanomParams& p) { p.num_to_ignore = -2; }, "num_to_ignore");
  throws_naming([](rnnad::TelemanomParams& p) { p.history = 10; }, "history");
  throws_naming([](rnnad::TelemanomParams& p) { p.min_error = NAN; }, "min_error");
  throws_naming([](rnnad::TelemanomParams& p) { p.target_gate = -1.0; }, "target_gate");

  throws_naming([](rnnad::TelemanomParams& p) { p.error_buffer = (int64_t{1} << 53) + 1; }, "error_buffer");
  throws_naming([](rnnad::TelemanomParams& p) { p.window_size = int64_t{1} << 50; }, "window_size");

  // The largest accepted values run without overflow.
  std::vector<double> spiked = e;
  spiked[150] = 5.0;
  for (auto mode : {rnnad::TelemanomMode::Batch, rnnad::TelemanomMode::Sliding}) {
    rnnad::TelemanomParams big = plain_params();
    big.mode = mode;
    big.error_buffer = int64_t{1} << 53;
    const rnnad::TelemanomResult rb = rnnad::telemanom_detect(spiked, big);
    check_all_finite(rb);
    CHECK(!rb.flagged.empty());
    big.error_buffer = 2;
    big.l_s = int64_t{1} << 53;
    big.batch_size = int64_t{1} << 53;
    big.window_size = 1;
    check_all_finite(rnnad::telemanom_detect(spiked, big));
  }

  CHECK_THROWS_WITH(rnnad::telemanom_detect(std::vector<double>{}), Catch::Contains("empty"));
  std::vector<double> bad = e;
  bad[3] = NAN;
  CHECK_THROWS_WITH(rnnad::telemanom_detect(bad), Catch::Contains("errors[3]"));
  bad[3] = INFINITY;
  CHECK_THROWS_WITH(rnnad::telemanom_detect(bad), Catch::Contains("errors[3]"));
  const std::vector<double> y(299 * 2, 0.0);
  CHECK_THROWS_AS(rnnad::telemanom_detect(e, {}, rnnad::TelemanomTargets{y, 2}), rnnad::ShapeError);
  const std::vector<double> y_ok(300 * 2, 0.0);
  CHECK_THROWS_WITH(rnnad::telemanom_detect(e, {}, rnnad::TelemanomTargets{y_ok, 0}), Catch::Contains("columns"));
  CHECK_THROWS_AS(rnnad::telemanom_errors(e, y_ok, 3), rnnad::ShapeError);
  CHECK_THROWS_WITH(rnnad::telemanom_errors(e, y_ok, 0), Catch::Contains("n_predictions"));
}

TEST_CASE("telemanom on short series: one window, no crash", "[telemanom]") {
  // The reference crashes for N < l_s (broadcast) and, for N < h, uses one window [0, N).
  for (int64_t n : {1, 2, 5, 100, 249, 600}) {
    INFO("N = " << n);
    std::vector<double> e = f30_noise(n);
    e[static_cast<size_t>(n / 2)] = 3.0;
    for (auto mode : {rnnad::TelemanomMode::Batch, rnnad::TelemanomMode::Sliding}) {
      rnnad::TelemanomParams p;  // defaults: l_s 250, smoothing span 105
      p.mode = mode;
      const rnnad::TelemanomResult r = rnnad::telemanom_detect(e, p);
      check_all_finite(r);
      REQUIRE(static_cast<int64_t>(r.e_s.size()) == n);
      if (mode == rnnad::TelemanomMode::Batch) REQUIRE(r.windows.size() == 1);
    }
  }
}

TEST_CASE("telemanom on signed score series never yields NaN", "[telemanom]") {
  // Scores centred on 0 (μ ≈ 0, maxima ≤ 0 possible): the objective, pruning drops and score
  // denominators are guarded.
  std::vector<double> s = f30_noise(3000);
  for (double& v : s) v = (v - 0.1) * 100.0;  // −1 .. 1
  s[700] = 9.0;
  s[1500] = -9.0;
  s[2600] = 4.0;
  rnnad::TelemanomParams p = plain_params();
  p.min_error = -std::numeric_limits<double>::infinity();
  for (auto mode : {rnnad::TelemanomMode::Batch, rnnad::TelemanomMode::Sliding}) {
    p.mode = mode;
    const rnnad::TelemanomResult r = rnnad::telemanom_detect(s, p);
    check_all_finite(r);
    CHECK(std::find(r.flagged.begin(), r.flagged.end(), 700) != r.flagged.end());
  }
}

// ---------------------------------------------------------------------------------------------
// Field case F12: flat error series and a single spike
// ---------------------------------------------------------------------------------------------

TEST_CASE("F12: telemanom on flat errors and a single spike", "[telemanom][field]") {
  const int64_t n = 5000;
  const std::vector<double> zeros(n, 0.0);  // (A)
  std::vector<double> spike(n, 0.0);        // (B)
  spike[4900] = 10.0;
  const std::vector<double> flat(n, 0.3);  // (C)

  rnnad::TelemanomParams one = plain_params();  // one window over all 5000 rows (F12's numbers)
  one.history = n;
  rnnad::TelemanomParams batch = plain_params();  // default windows: h = 2100, batch 70
  rnnad::TelemanomParams sliding = plain_params();
  sliding.mode = rnnad::TelemanomMode::Sliding;
  rnnad::TelemanomParams smoothed;  // Telemanom defaults with smoothing and l_s warm-up

  SECTION("(A) all 0 and (C) all 0.3: ε = the mean, nothing flagged, no NaN") {
    for (const auto* series : {&zeros, &flat}) {
      const double level = (*series)[0];
      for (const auto* p : {&one, &batch, &sliding, &smoothed}) {
        const rnnad::TelemanomResult r = rnnad::telemanom_detect(*series, *p);
        check_all_finite(r);
        CHECK(r.flagged.empty());
        CHECK(r.events.empty());
        CHECK(r.scores.empty());
        for (const auto& w : r.windows) {
          INFO("level " << level << ", window " << w.index);
          CHECK(w.flat);
          CHECK(w.mean_e_s == level);
          CHECK(w.sd_e_s == 0.0);
          CHECK(w.epsilon == level);
          CHECK(w.epsilon_inv == level);
        }
      }
    }
  }

  SECTION("(B) one spike: one region, 4900 ± error_buffer, nothing else") {
    const rnnad::TelemanomResult r = rnnad::telemanom_detect(spike, one);
    check_all_finite(r);
    REQUIRE(r.windows.size() == 1);
    const auto& w = r.windows[0];
    // Hand: mean = 10/5000 = 0.002; std = sqrt((10² − 5000·0.002²)/5000) = sqrt(0.019996) = 0.141407...
    CHECK(w.mean_e_s == 0.002);
    CHECK(std::fabs(w.sd_e_s - std::sqrt(0.019996)) <= 1e-15);
    CHECK(std::fabs(w.sd_e_s - 0.141407) <= 1e-6);
    // Every candidate ε = 0.002 + z·0.1414 (z <= 11.5) is below 10, and each flags only row 4900
    // (same set, same objective): the tie goes to the largest z.
    CHECK(w.z == 11.5);
    CHECK(w.epsilon < 10.0);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].start == 4800);
    CHECK(r.events[0].end == 4999);  // 4900 + 100 clipped to the last row
    CHECK(r.flagged.size() == 200);
    CHECK(w.mean_e_s + w.sd_e_s > 0.0);
    CHECK(r.events[0].score > 0.0);

    // Sliding batches over a 2100-row history: the same region (the buffer reaches back into
    // earlier batches).
    const rnnad::TelemanomResult rs = rnnad::telemanom_detect(spike, sliding);
    check_all_finite(rs);
    REQUIRE(rs.events.size() == 1);
    CHECK(rs.events[0].start == 4800);
    CHECK(rs.events[0].end == 4999);
    CHECK(rs.flagged.size() == 200);

    // Telemanom's batch windows: 4900 lies in the rows the reference never judges
    // ([4900, 4930), algorithms.md §1.5); rnnad judges it in the last window. Only rows judged
    // in that window are flagged: [4900, 4999].
    const rnnad::TelemanomResult rb = rnnad::telemanom_detect(spike, batch);
    check_all_finite(rb);
    REQUIRE(rb.events.size() == 1);
    CHECK(rb.events[0].start == 4900);
    CHECK(rb.events[0].end == 4999);
    CHECK(rb.flagged.front() == 4900);
  }
}

// ---------------------------------------------------------------------------------------------
// Field case F30: a spike entering and leaving the history window
// ---------------------------------------------------------------------------------------------

TEST_CASE("F30: sliding threshold, spike entering and leaving the history", "[telemanom][field]") {
  std::vector<double> e = f30_noise(4000);
  e[1200] = 5.0;
  rnnad::TelemanomParams p = plain_params();
  p.mode = rnnad::TelemanomMode::Sliding;
  p.history = 1000;
  p.batch_size = 70;
  p.error_buffer = 2;

  const rnnad::TelemanomResult r = rnnad::telemanom_detect(e, p);
  check_all_finite(r);
  // One region: the spike and its buffer (noise never reaches μ + 2.5σ: its largest value is
  // 1.58 σ above its mean, and with the spike in the history ε is far above 0.11).
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].start == 1198);
  CHECK(r.events[0].end == 1202);
  CHECK(entries_covering(r, 1200) == 1);
  // The last history holding the spike is [1170, 2170); the next, [1240, 2240), judges rows
  // 2170..2239, where F30 looks (2190..2215): nothing is flagged while the spike leaves.
  for (int64_t row : r.flagged) CHECK((row < 2190 || row > 2215));
  // The threshold in force after the spike has left is within 5% of the one before it came.
  const double before = judging_window(r, 1100).epsilon;
  const double after = judging_window(r, 2300).epsilon;
  CHECK(std::fabs(after - before) <= 0.05 * before);
  // While the spike is in the history the threshold is raised (the "jump" users see).
  CHECK(judging_window(r, 1500).epsilon > 2.0 * before);

  // With Telemanom's smoothing (span 105) and l_s warm-up the spike becomes a decaying bump;
  // still one region with the spike, and nothing flagged while it leaves.
  rnnad::TelemanomParams ps = p;
  ps.smoothing_perc = 0.05;
  ps.window_size = 30;
  ps.l_s = 250;
  const rnnad::TelemanomResult rs = rnnad::telemanom_detect(e, ps);
  check_all_finite(rs);
  REQUIRE(rs.events.size() == 1);
  CHECK(rs.events[0].start <= 1200);
  CHECK(rs.events[0].end >= 1200);
  for (int64_t row : rs.flagged) CHECK((row < 2190 || row > 2215));
}

TEST_CASE("F30: batch mode reports a spike in any batch of a window exactly once", "[telemanom][field]") {
  // Windows [70i, 70i + 1000): a spike at 1200 lies in the FIRST batch of window 17
  // ([1190, 2190)) and in the newest batch of window 3 ([210, 1210), judged [1140, 1210)).
  // Issue #82's worry: anomalies outside the newest batch are dropped. Each row is judged in
  // exactly one window, so the spike is reported once, wherever it is; 3900 lies in the rows the
  // reference never judges (last window [2940, 4000): reference judges [3930, 4000)).
  rnnad::TelemanomParams p = plain_params();
  p.history = 1000;
  p.error_buffer = 2;
  for (int64_t at :
       {int64_t{30}, int64_t{1140}, int64_t{1190}, int64_t{1200}, int64_t{1259}, int64_t{3900}, int64_t{3999}}) {
    INFO("spike at " << at);
    std::vector<double> e = f30_noise(4000);
    e[static_cast<size_t>(at)] = 5.0;
    for (auto mode : {rnnad::TelemanomMode::Batch, rnnad::TelemanomMode::Sliding}) {
      p.mode = mode;
      INFO((mode == rnnad::TelemanomMode::Batch ? "batch" : "sliding"));
      const rnnad::TelemanomResult r = rnnad::telemanom_detect(e, p);
      check_all_finite(r);
      REQUIRE(r.events.size() == 1);
      CHECK(r.events[0].start <= at);
      CHECK(r.events[0].end >= at);
      CHECK(entries_covering(r, at) == 1);
      const int64_t lo = std::max<int64_t>(0, at - 2), hi = std::min<int64_t>(3999, at + 2);
      CHECK(r.events[0].start >= lo);
      CHECK(r.events[0].end <= hi);
      if (mode == rnnad::TelemanomMode::Sliding) {  // buffer on both sides, across batch edges
        CHECK(r.events[0].start == lo);
        CHECK(r.events[0].end == hi);
      }
    }
  }
  // Window 17 of the batch layout starts at 1190: 1200 is in its first batch.
  p.mode = rnnad::TelemanomMode::Batch;
  std::vector<double> e = f30_noise(4000);
  e[1200] = 5.0;
  const rnnad::TelemanomResult r = rnnad::telemanom_detect(e, p);
  CHECK(r.windows[17].start == 1190);
  CHECK(judging_window(r, 1200).index == 3);
}

// ---------------------------------------------------------------------------------------------
// Static thresholds
// ---------------------------------------------------------------------------------------------

TEST_CASE("static: numpy percentile, mean and population std by hand", "[threshold_static]") {
  // Sorted 1..5, n = 5: q = 95 → position 3.8 → 4 + (5 − 4)·0.8 = 4.8 (numpy lerp from the top:
  // 5 − 1·0.2); q = 5 → 0.2 → 1.2; q = 50 → 3; q = 0 → 1; q = 100 → 5. NaN rows are skipped.
  const std::vector<double> s{5.0, NAN, 1.0, 4.0, NAN, 2.0, 3.0};
  CHECK(rnnad::score_percentile(s, 95.0) == 4.8);
  CHECK(std::fabs(rnnad::score_percentile(s, 5.0) - 1.2) <= 1e-15);
  CHECK(rnnad::score_percentile(s, 50.0) == 3.0);
  CHECK(rnnad::score_percentile(s, 0.0) == 1.0);
  CHECK(rnnad::score_percentile(s, 100.0) == 5.0);
  const std::vector<double> qs{95.0, 5.0};
  const auto both = rnnad::score_percentiles(s, qs);
  CHECK(both[0] == 4.8);
  CHECK(both[1] == rnnad::score_percentile(s, 5.0));
  CHECK(rnnad::threshold_quantile(s, 95.0) == 4.8);
  CHECK(rnnad::score_percentile(std::vector<double>{7.5}, 30.0) == 7.5);

  // 1, 2, 3, 4: mean 2.5, population variance 1.25 → std = sqrt(1.25); k = 2 → 2.5 + 2·sqrt(1.25).
  const std::vector<double> v{1.0, NAN, 2.0, 3.0, 4.0};
  const rnnad::ScoreStats st = rnnad::score_stats(v);
  CHECK(st.count == 4);
  CHECK(st.mean == 2.5);
  CHECK(st.stddev == std::sqrt(1.25));
  CHECK(rnnad::threshold_mean_std(v, 2.0) == 2.5 + 2.0 * std::sqrt(1.25));
  CHECK(rnnad::threshold_mean_std(v, -1.0) == 2.5 - std::sqrt(1.25));
  CHECK(rnnad::threshold_fixed(0.7) == 0.7);

  rnnad::StaticThresholdParams sp;
  CHECK(rnnad::fit_static_threshold(v, sp) == 2.5 + 4.0 * std::sqrt(1.25));  // default mean + 4 std
  sp.rule = rnnad::StaticRule::Quantile;
  sp.q = 100.0;
  CHECK(rnnad::fit_static_threshold(v, sp) == 4.0);
  sp.rule = rnnad::StaticRule::Fixed;
  sp.value = -3.0;
  CHECK(rnnad::fit_static_threshold({}, sp) == -3.0);
  const rnnad::ScoreStats none = rnnad::score_stats(std::vector<double>{NAN, NAN});
  CHECK(none.count == 0);
  CHECK(none.mean == 0.0);
  CHECK(none.stddev == 0.0);
}

TEST_CASE("static: flags are strict and skip \"no score\" rows", "[threshold_static]") {
  const std::vector<double> s{0.0, 1.0, 2.0, NAN, INFINITY, -INFINITY, 1.0000000000000002};
  const std::vector<uint8_t> f = rnnad::flag_scores(s, 1.0);
  CHECK(f == std::vector<uint8_t>{0, 0, 1, 0, 1, 0, 1});
  CHECK(rnnad::count_flagged(s, 1.0) == 3);
  CHECK(rnnad::count_flagged(s, INFINITY) == 0);
  CHECK(rnnad::count_flagged(s, -INFINITY) == 5);  // every value but −inf and NaN
  CHECK_THROWS_WITH(rnnad::flag_scores(s, NAN), Catch::Contains("threshold"));
  CHECK_THROWS_WITH(rnnad::count_flagged(s, NAN), Catch::Contains("threshold"));
}

TEST_CASE("static: bad inputs and parameters are errors naming them", "[threshold_static]") {
  const std::vector<double> all_nan{NAN, NAN, NAN};
  CHECK_THROWS_WITH(rnnad::threshold_quantile(all_nan, 50.0), Catch::Contains("no score"));
  CHECK_THROWS_WITH(rnnad::threshold_mean_std(all_nan, 3.0), Catch::Contains("no score"));
  CHECK_THROWS_WITH(rnnad::threshold_mean_std(std::vector<double>{}, 3.0), Catch::Contains("no score"));
  const std::vector<double> ok{1.0, 2.0};
  CHECK_THROWS_WITH(rnnad::threshold_quantile(ok, 100.5), Catch::Contains("q must"));
  CHECK_THROWS_WITH(rnnad::threshold_quantile(ok, NAN), Catch::Contains("q must"));
  CHECK_THROWS_WITH(rnnad::threshold_mean_std(ok, NAN), Catch::Contains("k must"));
  CHECK_THROWS_WITH(rnnad::threshold_fixed(INFINITY), Catch::Contains("value"));
  const std::vector<double> with_inf{1.0, 2.0, -INFINITY};
  CHECK_THROWS_WITH(rnnad::threshold_mean_std(with_inf, 1.0), Catch::Contains("row 2"));
  CHECK_THROWS_WITH(rnnad::threshold_quantile(with_inf, 50.0), Catch::Contains("row 2"));
  CHECK_THROWS_WITH(rnnad::score_stats(with_inf), Catch::Contains("row 2"));
  CHECK_THROWS_AS(rnnad::score_percentile(with_inf, 50.0), rnnad::Error);
}

TEST_CASE("F12: static mean + 4·std on flat errors and a single spike", "[threshold_static][field]") {
  const std::vector<double> zeros(5000, 0.0);
  std::vector<double> spike(5000, 0.0);
  spike[4900] = 10.0;
  const std::vector<double> flat(5000, 0.3);
  // (A) std = 0 → threshold = mean = 0; strict flagging leaves the baseline alone.
  CHECK(rnnad::threshold_mean_std(zeros, 4.0) == 0.0);
  CHECK(rnnad::count_flagged(zeros, rnnad::threshold_mean_std(zeros, 4.0)) == 0);
  // (C) threshold exactly 0.3, nothing flagged.
  CHECK(rnnad::threshold_mean_std(flat, 4.0) == 0.3);
  CHECK(rnnad::count_flagged(flat, rnnad::threshold_mean_std(flat, 4.0)) == 0);
  // (B) mean 0.002, std sqrt(0.019996) = 0.141407 → threshold 0.5676: only the spike.
  const rnnad::ScoreStats st = rnnad::score_stats(spike);
  CHECK(st.mean == 0.002);
  CHECK(std::fabs(st.stddev - std::sqrt(0.019996)) <= 1e-15);
  const double thr = rnnad::threshold_mean_std(spike, 4.0);
  CHECK(std::fabs(thr - (0.002 + 4.0 * std::sqrt(0.019996))) <= 1e-15);
  const std::vector<uint8_t> f = rnnad::flag_scores(spike, thr);
  CHECK(rnnad::count_flagged(spike, thr) == 1);
  CHECK(f[4900] == 1);
  // The 99th percentile of (B) is 0: every baseline row equals it and is not flagged.
  CHECK(rnnad::threshold_quantile(spike, 99.0) == 0.0);
  CHECK(rnnad::count_flagged(spike, rnnad::threshold_quantile(spike, 99.0)) == 1);
}
