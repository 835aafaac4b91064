// The score kernels (kernels/score_kernels.cuh: window gather, step errors, pooling of overlapping
// windows into a ring of rows, output spread) compiled as host C++ and run through the CPU harness
// batch after batch, as the CUDA window scorer drives them, against the host Scorer's loop
// (rnnad/score_row.h, in window order) written out here, bit for bit, for every method and pooling, strides
// below, at and above seq_len (rows no window covers), rings that wrap, and non-finite outputs.
#include <catch2/catch.hpp>
#include <climits>
#include <cmath>
#include <random>
#include <vector>

#include "rnnad/cuda/score_kernels.h"
#include "rnnad/score_row.h"
#include "score_kernels.cuh"

using namespace rnnad;

namespace {

const sim::Schedule kSchedules[] = {sim::Schedule::Forward, sim::Schedule::Reverse, sim::Schedule::Random};

// Scores and contributions: the same operations in the same order, no contraction (CMakeLists):
// equal bits, NaN where the host has no score.
bool same(double a, double b) { return std::isnan(b) ? std::isnan(a) : a == b; }

// The spread: merged in another order than the host's one-by-one additions.
bool close(double a, double b) { return std::abs(a - b) <= 1e-12 * (1.0 + std::abs(b)); }

struct Case {
  int F, T, stride, max_batch;
  ScoreMethod method;
  ScorePooling pooling;
  int rows;
};

// The series, its per-window reconstructions and the model's scoring settings.
struct Series {
  Case c;
  int windows;
  std::vector<double> x;     // [rows, F] normalised
  std::vector<float> recon;  // [windows, T, F]
  ScoringConfig scoring;
  explicit Series(const Case& k) : c(k), windows((k.rows - k.T) / k.stride + 1) {
    std::mt19937 rng(static_cast<std::uint32_t>(k.F * 7919 + k.T * 131 + k.stride * 17 + k.rows));
    std::normal_distribution<double> n(0.0, 1.0);
    x.resize(static_cast<std::size_t>(k.rows * k.F));
    for (double& v : x) v = n(rng);
    recon.resize(static_cast<std::size_t>(windows * k.T * k.F));
    for (float& v : recon) v = static_cast<float>(n(rng));
    scoring.method = k.method;
    scoring.pooling = k.pooling;
    scoring.stride = k.stride;
    if (k.method == ScoreMethod::Mahalanobis) {
      // Precision A Aᵀ + I (symmetric positive definite), mean of |e|-like values.
      std::vector<double> a(static_cast<std::size_t>(k.F * k.F));
      for (double& v : a) v = 0.3 * n(rng);
      scoring.precision.assign(a.size(), 0.0);
      for (int i = 0; i < k.F; ++i)
        for (int j = 0; j < k.F; ++j) {
          double s = i == j ? 1.0 : 0.0;
          for (int q = 0; q < k.F; ++q)
            s += a[static_cast<std::size_t>(i * k.F + q)] * a[static_cast<std::size_t>(j * k.F + q)];
          scoring.precision[static_cast<std::size_t>(i * k.F + j)] = s;
        }
      for (int i = 0; i < k.F; ++i) scoring.mean.push_back(0.8 + 0.1 * i);
    }
  }
  float rec(int w, int t, int f) const { return recon[static_cast<std::size_t>((w * c.T + t) * c.F + f)]; }
};

// The host Scorer's pooling loop (engine/src/scoring.cpp), before the mean division.
void host_scores(const Series& s, std::vector<double>& scores, std::vector<double>& contrib) {
  const int F = s.c.F;
  scores.assign(static_cast<std::size_t>(s.c.rows), NAN);
  contrib.assign(static_cast<std::size_t>(s.c.rows * F), NAN);
  std::vector<double> e(static_cast<std::size_t>(F)), ct(static_cast<std::size_t>(F)),
      work(static_cast<std::size_t>(2 * F));
  for (int w = 0; w < s.windows; ++w)
    for (int t = 0; t < s.c.T; ++t) {
      const int r = w * s.c.stride + t;
      for (int f = 0; f < F; ++f)
        e[static_cast<std::size_t>(f)] = s.x[static_cast<std::size_t>(r * F + f)] - s.rec(w, t, f);
      const double score = score_error_vector(s.scoring, e.data(), nullptr, F, ct.data(), work.data());
      pool_window_score(s.c.pooling, std::isnan(scores[static_cast<std::size_t>(r)]), score, ct.data(), F,
                        scores[static_cast<std::size_t>(r)], contrib.data() + r * F);
    }
}

struct DeviceResult {
  std::vector<double> scores, contrib;
  std::vector<RunningStats> out, in;
  int bad = INT_MAX;
  long long bad_row = -1;
};

// The batches through the kernels, as cuda::WindowScorer drives them.
DeviceResult device_scores(const Series& s, sim::Schedule schedule) {
  const int F = s.c.F, T = s.c.T, stride = s.c.stride;
  DeviceResult res;
  res.scores.assign(static_cast<std::size_t>(s.c.rows), NAN);
  res.contrib.assign(static_cast<std::size_t>(s.c.rows * F), NAN);
  res.out.resize(static_cast<std::size_t>(F));
  res.in.resize(static_cast<std::size_t>(F));
  const long long capacity = static_cast<long long>(s.c.max_batch) * stride + T;
  std::vector<double> ring(static_cast<std::size_t>(capacity * (F + 1)), -7.0);  // garbage until pooled
  sim::LaunchOptions opt;
  opt.schedule = schedule;
  long long fresh = 0;
  for (int first = 0; first < s.windows; first += s.c.max_batch) {
    const int count = std::min(s.c.max_batch, s.windows - first);
    cuda::ScoreBatchDims d{T, count, F, stride};
    const long long row0 = static_cast<long long>(first) * stride;
    const double* rows = s.x.data() + row0 * F;
    // Exactly sized device arrays (ASan catches any access past them).
    std::vector<float> x(static_cast<std::size_t>(T * count * F), NAN), recon(x.size());
    for (int t = 0; t < T; ++t)
      for (int w = 0; w < count; ++w)
        for (int f = 0; f < F; ++f) recon[static_cast<std::size_t>((t * count + w) * F + f)] = s.rec(first + w, t, f);
    std::vector<double> rows_copy(rows, rows + d.span() * F);
    // The gather from float64 rows (this scorer) and from float rows (Engine::run_windows).
    std::vector<float> rows_f(rows_copy.size()), x_f(x.size(), NAN);
    for (std::size_t i = 0; i < rows_f.size(); ++i) rows_f[i] = static_cast<float>(rows_copy[i]);
    cuda::GatherWindowsArgs<double> g{d, rows_copy.data(), x.data()};
    cuda::GatherWindowsArgs<float> gf{d, rows_f.data(), x_f.data()};
    sim::launch(cuda::gather_windows_kernel<double>, dim3(cuda::score_blocks(static_cast<long long>(x.size()))),
                dim3(cuda::kScoreThreads), opt, g);
    sim::launch(cuda::gather_windows_kernel<float>, dim3(cuda::score_blocks(static_cast<long long>(x.size()))),
                dim3(cuda::kScoreThreads), opt, gf);
    for (int t = 0; t < T; ++t)
      for (int w = 0; w < count; ++w)
        for (int f = 0; f < F; ++f) {
          const std::size_t i = static_cast<std::size_t>((t * count + w) * F + f);
          REQUIRE(x[i] == static_cast<float>(rows_copy[static_cast<std::size_t>((w * stride + t) * F + f)]));
          REQUIRE(x_f[i] == x[i]);
        }

    std::vector<double> scores(static_cast<std::size_t>(count * T)),
        contrib(scores.size() * static_cast<std::size_t>(F)), work(scores.size() * static_cast<std::size_t>(3 * F)),
        stats(static_cast<std::size_t>(6 * F));
    int bad = INT_MAX;
    cuda::WindowErrorArgs e;
    e.dims = d;
    e.terms = score_terms(s.scoring);
    e.rows = rows_copy.data();
    e.recon = recon.data();
    e.scores = scores.data();
    e.contrib = contrib.data();
    e.work = work.data();
    e.bad = &bad;
    cuda::check_window_error_args(e);
    sim::launch(cuda::window_errors_kernel, dim3(cuda::score_blocks(static_cast<long long>(count) * T)),
                dim3(cuda::kScoreThreads), opt, e);
    if (bad != INT_MAX && res.bad_row < 0) res.bad_row = row0 + (bad / T) * stride + bad % T;

    cuda::PoolRowsArgs p;
    p.dims = d;
    p.pooling = s.c.pooling;
    p.scores = scores.data();
    p.contrib = contrib.data();
    p.ring = ring.data();
    p.first_row = row0;
    p.fresh_row = fresh;
    p.capacity = capacity;
    cuda::check_pool_rows_args(p);
    sim::launch(cuda::pool_rows_kernel, dim3(static_cast<unsigned>(p.extent())), dim3(cuda::kScoreThreads), opt, p);

    cuda::SpreadArgs sp{d, rows_copy.data(), recon.data(), stats.data()};
    sim::launch(cuda::output_spread_kernel, dim3(static_cast<unsigned>(F)), dim3(cuda::kScoreThreads), opt, sp);
    cuda::merge_spread(stats.data(), F, res.out.data(), res.in.data());

    // The rows final after this batch: up to the next batch's first row (all pooled rows after the last).
    const bool last = first + count == s.windows;
    const long long end =
        std::min<long long>(s.c.rows, row0 + (last ? p.extent() : static_cast<long long>(count) * stride));
    for (long long r = row0; r < end; ++r) {
      const double* slot = ring.data() + (r % capacity) * (F + 1);
      res.scores[static_cast<std::size_t>(r)] = slot[0];
      for (int f = 0; f < F; ++f) res.contrib[static_cast<std::size_t>(r * F + f)] = slot[1 + f];
    }
    fresh = row0 + p.extent();
  }
  return res;
}

}  // namespace

TEST_CASE("sim: score kernels pool every row as the host Scorer does, batch after batch", "[sim][scoring]") {
  const ScoreMethod methods[] = {ScoreMethod::Absolute, ScoreMethod::Squared, ScoreMethod::Mahalanobis};
  const ScorePooling poolings[] = {ScorePooling::Mean, ScorePooling::Max, ScorePooling::Last};
  std::vector<Case> cases;
  for (ScoreMethod m : methods)
    for (ScorePooling p : poolings) {
      cases.push_back({3, 5, 1, 4, m, p, 29});  // overlapping windows, ring wraps
      cases.push_back({1, 1, 1, 3, m, p, 7});   // one-step windows
      cases.push_back({2, 4, 3, 2, m, p, 23});  // stride below seq_len
      cases.push_back({4, 3, 5, 3, m, p, 31});  // stride above seq_len: rows no window covers
      cases.push_back({5, 6, 6, 1, m, p, 30});  // stride = seq_len, batch 1
    }
  cases.push_back({38, 10, 1, 16, ScoreMethod::Mahalanobis, ScorePooling::Mean, 70});  // SMD-sized rows
  for (const Case& c : cases) {
    const Series s(c);
    std::vector<double> want, want_contrib;
    host_scores(s, want, want_contrib);
    for (sim::Schedule sched : kSchedules) {
      INFO("F " << c.F << " T " << c.T << " stride " << c.stride << " batch " << c.max_batch << " method "
                << static_cast<int>(c.method) << " pooling " << static_cast<int>(c.pooling) << " schedule "
                << sim::schedule_name(sched));
      const DeviceResult got = device_scores(s, sched);
      CHECK(got.bad_row == -1);
      for (int r = 0; r < c.rows; ++r) {
        INFO("row " << r);
        REQUIRE(same(got.scores[static_cast<std::size_t>(r)], want[static_cast<std::size_t>(r)]));
        for (int f = 0; f < c.F; ++f)
          REQUIRE(same(got.contrib[static_cast<std::size_t>(r * c.F + f)],
                       want_contrib[static_cast<std::size_t>(r * c.F + f)]));
      }
      // The spread of every window step's output and input, in the host's order.
      for (int f = 0; f < c.F; ++f) {
        RunningStats out, in;
        for (int w = 0; w < s.windows; ++w)
          for (int t = 0; t < c.T; ++t) {
            out.add(s.rec(w, t, f));
            in.add(s.x[static_cast<std::size_t>((w * c.stride + t) * c.F + f)]);
          }
        const RunningStats& go = got.out[static_cast<std::size_t>(f)];
        const RunningStats& gi = got.in[static_cast<std::size_t>(f)];
        REQUIRE(go.count == out.count);
        REQUIRE(gi.count == in.count);
        REQUIRE(close(go.mean, out.mean));
        REQUIRE(close(gi.mean, in.mean));
        REQUIRE(std::abs(go.m2 - out.m2) <= 1e-10 * (1.0 + out.m2));
        REQUIRE(std::abs(gi.m2 - in.m2) <= 1e-10 * (1.0 + in.m2));
      }
    }
  }
}

TEST_CASE("sim: NaN step scores pool as on the host", "[sim][scoring]") {
  // |e| ~ 1e308 overflows the quadratic form: 2·d − 2·d is inf − inf = NaN at row 11 in every
  // window over it (with float reconstructions the NaN depends on the row only), finite elsewhere.
  for (ScorePooling p : {ScorePooling::Mean, ScorePooling::Max, ScorePooling::Last}) {
    Case c{3, 4, 1, 3, ScoreMethod::Mahalanobis, p, 24};
    Series s(c);
    s.scoring.precision = {2.0, -2.0, 0.0, -2.0, 2.0, 0.0, 0.0, 0.0, 1.0};
    for (int f = 0; f < c.F; ++f) s.x[static_cast<std::size_t>(11 * c.F + f)] = 1e308;
    std::vector<double> want, want_contrib;
    host_scores(s, want, want_contrib);
    REQUIRE(std::isnan(want[11]));
    for (sim::Schedule sched : kSchedules) {
      const DeviceResult got = device_scores(s, sched);
      for (int r = 0; r < c.rows; ++r) {
        INFO("pooling " << static_cast<int>(p) << " row " << r);
        REQUIRE(same(got.scores[static_cast<std::size_t>(r)], want[static_cast<std::size_t>(r)]));
        for (int f = 0; f < c.F; ++f)
          REQUIRE(same(got.contrib[static_cast<std::size_t>(r * c.F + f)],
                       want_contrib[static_cast<std::size_t>(r * c.F + f)]));
      }
    }
  }
}

TEST_CASE("sim: window_errors reports the first non-finite reconstruction", "[sim][scoring]") {
  Case c{3, 5, 2, 4, ScoreMethod::Squared, ScorePooling::Max, 40};
  Series s(c);
  // Window 6 step 3 (row 15) and window 9 step 0 (row 18): both in the second batch.
  s.recon[static_cast<std::size_t>((6 * c.T + 3) * c.F + 1)] = INFINITY;
  s.recon[static_cast<std::size_t>((9 * c.T + 0) * c.F + 2)] = NAN;
  for (sim::Schedule sched : kSchedules) {
    const DeviceResult got = device_scores(s, sched);
    CHECK(got.bad_row == 15);
  }
}

namespace {

// A windowed forecaster's series and its per-window predictions, P = L·K·d laid out [h][k][j].
struct Forecast {
  int F, T, stride, max_batch, d, K, L, rows;
  ScoreMethod method;
  int windows;
  std::vector<int> cols;    // [d] target columns
  std::vector<double> x;    // [rows, F] normalised
  std::vector<float> pred;  // [windows, P]
  ScoringConfig scoring;
  Forecast(int f, int t, int s, int b, int targets, int k, int l, int n, ScoreMethod m)
      : F(f), T(t), stride(s), max_batch(b), d(targets), K(k), L(l), rows(n), method(m), windows((n - t) / s + 1) {
    std::mt19937 rng(static_cast<std::uint32_t>(f * 31 + t * 7 + s * 3 + n + static_cast<int>(m) * 1000 + l));
    std::normal_distribution<double> g(0.0, 1.0);
    for (int j = 0; j < d; ++j) cols.push_back((2 * j + 1) % F);
    x.resize(static_cast<std::size_t>(rows * F));
    for (double& v : x) v = g(rng);
    pred.resize(static_cast<std::size_t>(windows * P()));
    for (float& v : pred) v = static_cast<float>(0.5 * g(rng));
    scoring.method = m;
    scoring.stride = s;
    if (m == ScoreMethod::LstmAd) {  // Λ = A Aᵀ + I over the d·L errors, some mean
      const int k2 = d * L;
      std::vector<double> a(static_cast<std::size_t>(k2 * k2));
      for (double& v : a) v = 0.3 * g(rng);
      scoring.precision.assign(a.size(), 0.0);
      for (int i = 0; i < k2; ++i)
        for (int j = 0; j < k2; ++j) {
          double acc = i == j ? 1.0 : 0.0;
          for (int q = 0; q < k2; ++q)
            acc += a[static_cast<std::size_t>(i * k2 + q)] * a[static_cast<std::size_t>(j * k2 + q)];
          scoring.precision[static_cast<std::size_t>(i * k2 + j)] = acc;
        }
      for (int i = 0; i < k2; ++i) scoring.mean.push_back(0.05 * i);
      scoring.log_det = -1.25;
    }
  }
  int P() const { return L * K * d; }
  double target(int r, int j) const { return x[static_cast<std::size_t>(r * F + cols[static_cast<std::size_t>(j)])]; }
};

struct ForecastResult {
  std::vector<double> scores, contrib;
  std::vector<RunningStats> out, in;
  RunningStats echo, step;
  long long bad_row = -1;
};

// The host Scorer's windowed forecaster loop (engine/src/scoring.cpp, score_prediction).
ForecastResult host_forecast(const Forecast& c) {
  ForecastResult res;
  res.scores.assign(static_cast<std::size_t>(c.rows), NAN);
  res.contrib.assign(static_cast<std::size_t>(c.rows * c.d), NAN);
  res.out.resize(static_cast<std::size_t>(c.d));
  res.in.resize(static_cast<std::size_t>(c.d));
  const int P = c.P(), d = c.d, L = c.L, K = c.K;
  auto made_after = [&](long long q) -> const float* {  // every window's prediction is kept here
    if (q < c.T - 1 || (q - (c.T - 1)) % c.stride != 0) return nullptr;
    return c.pred.data() + (q - (c.T - 1)) / c.stride * P;
  };
  const ScoreTerms s = score_terms(c.scoring);
  std::vector<double> e(static_cast<std::size_t>(d * L)), logvar(static_cast<std::size_t>(d)),
      ct(static_cast<std::size_t>(d)), terms(static_cast<std::size_t>(d * L)),
      work(static_cast<std::size_t>(2 * d * L));
  for (int w = 0; w < c.windows; ++w) {
    const int q = w * c.stride + c.T - 1;
    const float* pr = made_after(q);
    for (int k = 0; k < P; ++k)
      if (!std::isfinite(pr[k])) {
        res.bad_row = q;
        return res;
      }
    if (q + 1 >= c.rows) continue;
    const int r = q + 1;
    for (int j = 0; j < d; ++j) {
      const double last = c.target(q, j), next = c.target(r, j);
      res.out[static_cast<std::size_t>(j)].add(pr[j]);
      res.in[static_cast<std::size_t>(j)].add(next);
      res.echo.add(std::abs(static_cast<double>(pr[j]) - last));
      res.step.add(std::abs(next - last));
    }
    double score;
    if (c.method == ScoreMethod::LstmAd) {
      if (r - L < 0) continue;
      bool all = true;
      for (int h = 0; h < L && all; ++h) {
        const float* p = made_after(r - 1 - h);
        if (!p) {
          all = false;
          break;
        }
        for (int j = 0; j < d; ++j) e[static_cast<std::size_t>(j * L + h)] = c.target(r, j) - p[(h * K) * d + j];
      }
      if (!all) continue;
      score = score_lstm_ad(s, e.data(), d, L, ct.data(), terms.data(), work.data());
    } else {
      for (int j = 0; j < d; ++j) {
        e[static_cast<std::size_t>(j)] = c.target(r, j) - pr[j];
        if (K == 2) logvar[static_cast<std::size_t>(j)] = pr[d + j];
      }
      score = score_error_vector(s, e.data(), logvar.data(), d, ct.data(), work.data());
    }
    res.scores[static_cast<std::size_t>(r)] = score;
    for (int j = 0; j < d; ++j) res.contrib[static_cast<std::size_t>(r * d + j)] = ct[static_cast<std::size_t>(j)];
  }
  return res;
}

// The batches through the kernels, as the CUDA window scorer drives them for a forecaster.
ForecastResult device_forecast(const Forecast& c, sim::Schedule schedule) {
  ForecastResult res;
  res.scores.assign(static_cast<std::size_t>(c.rows), NAN);
  res.contrib.assign(static_cast<std::size_t>(c.rows * c.d), NAN);
  res.out.resize(static_cast<std::size_t>(c.d));
  res.in.resize(static_cast<std::size_t>(c.d));
  const int P = c.P(), d = c.d, keep = c.L - 1;
  sim::LaunchOptions opt;
  opt.schedule = schedule;
  std::vector<float> history[2] = {std::vector<float>(static_cast<std::size_t>(std::max(keep, 1) * P), -9.0f),
                                   std::vector<float>(static_cast<std::size_t>(std::max(keep, 1) * P), -9.0f)};
  int cur = 0;
  for (int first = 0; first < c.windows; first += c.max_batch) {
    const int count = std::min(c.max_batch, c.windows - first);
    cuda::ScoreBatchDims dims{c.T, count, c.F, c.stride};
    const long long row0 = static_cast<long long>(first) * c.stride;
    const long long rows_in = std::min<long long>(dims.span() + 1, c.rows - row0);
    std::vector<double> rows(c.x.begin() + row0 * c.F, c.x.begin() + (row0 + rows_in) * c.F);  // exact size
    std::vector<float> pred(c.pred.begin() + static_cast<long long>(first) * P,
                            c.pred.begin() + static_cast<long long>(first + count) * P);
    std::vector<double> scores(static_cast<std::size_t>(count)), contrib(static_cast<std::size_t>(count * d)),
        work(static_cast<std::size_t>(count * cuda::prediction_error_work(c.method, d, c.L))),
        stats(static_cast<std::size_t>((2 * d + 2) * 3));
    int bad = INT_MAX;
    cuda::PredictionErrorArgs a;
    a.dims = dims;
    a.terms = score_terms(c.scoring);
    a.targets = d;
    a.moments = c.K;
    a.horizon = c.L;
    a.target_cols = c.cols.data();
    a.rows = rows.data();
    a.rows_in = rows_in;
    a.first_window = first;
    a.pred = pred.data();
    a.history = keep > 0 ? history[cur].data() : nullptr;
    a.scores = scores.data();
    a.contrib = contrib.data();
    a.work = work.data();
    a.bad = &bad;
    a.stats = stats.data();
    cuda::check_prediction_error_args(a);
    sim::launch(cuda::prediction_errors_kernel, dim3(cuda::score_blocks(count)), dim3(cuda::kScoreThreads), opt, a);
    sim::launch(cuda::prediction_spread_kernel, dim3(static_cast<unsigned>(d + 1)), dim3(cuda::kScoreThreads), opt, a);
    if (keep > 0) {
      cuda::KeepHistoryArgs k{history[cur].data(), pred.data(), history[1 - cur].data(), keep, count, P};
      sim::launch(cuda::keep_history_kernel, dim3(cuda::score_blocks(static_cast<long long>(keep) * P)),
                  dim3(cuda::kScoreThreads), opt, k);
      cur = 1 - cur;
    }
    if (bad != INT_MAX) {
      res.bad_row = row0 + static_cast<long long>(bad) * c.stride + c.T - 1;
      return res;
    }
    for (int w = 0; w < count; ++w) {
      const long long r = row0 + static_cast<long long>(w) * c.stride + c.T;
      if (r >= c.rows) continue;
      res.scores[static_cast<std::size_t>(r)] = scores[static_cast<std::size_t>(w)];
      for (int j = 0; j < d; ++j)
        res.contrib[static_cast<std::size_t>(r * d + j)] = contrib[static_cast<std::size_t>(w * d + j)];
    }
    cuda::merge_spread(stats.data(), d, res.out.data(), res.in.data());
    res.echo.merge(cuda::unpack_stats(stats.data() + 2 * d * 3));
    res.step.merge(cuda::unpack_stats(stats.data() + (2 * d + 1) * 3));
  }
  return res;
}

bool same_stats(const RunningStats& a, const RunningStats& b) {
  return a.count == b.count && close(a.mean, b.mean) && std::abs(a.m2 - b.m2) <= 1e-10 * (1.0 + b.m2);
}

}  // namespace

TEST_CASE("sim: forecasts are scored on the device as the host Scorer does, batch after batch", "[sim][scoring]") {
  std::vector<Forecast> cases;
  for (ScoreMethod m : {ScoreMethod::Absolute, ScoreMethod::Squared}) {
    cases.emplace_back(3, 5, 1, 4, 2, 1, 1, 30, m);  // point, stride 1: the last window has no target
    cases.emplace_back(4, 3, 2, 3, 1, 1, 3, 26, m);  // stride 2, horizon 3 (scored one step ahead)
    cases.emplace_back(2, 4, 5, 2, 2, 1, 1, 33, m);  // stride above seq_len
  }
  cases.emplace_back(3, 5, 1, 4, 2, 2, 1, 31, ScoreMethod::GaussianNll);  // gaussian head
  cases.emplace_back(5, 6, 3, 3, 3, 2, 2, 40, ScoreMethod::GaussianNll);
  cases.emplace_back(3, 4, 1, 3, 2, 1, 3, 29, ScoreMethod::LstmAd);       // history across batches
  cases.emplace_back(2, 3, 1, 1, 1, 1, 4, 15, ScoreMethod::LstmAd);       // batch 1: history from earlier batches only
  cases.emplace_back(4, 2, 1, 5, 2, 2, 2, 27, ScoreMethod::LstmAd);       // gaussian head, means only
  cases.emplace_back(38, 10, 1, 16, 38, 1, 1, 60, ScoreMethod::Squared);  // SMD-sized rows, every column a target
  for (const Forecast& c : cases) {
    const ForecastResult want = host_forecast(c);
    REQUIRE(want.bad_row == -1);
    for (sim::Schedule sched : kSchedules) {
      INFO("F " << c.F << " T " << c.T << " stride " << c.stride << " batch " << c.max_batch << " d " << c.d << " K "
                << c.K << " L " << c.L << " method " << static_cast<int>(c.method) << " schedule "
                << sim::schedule_name(sched));
      const ForecastResult got = device_forecast(c, sched);
      CHECK(got.bad_row == -1);
      int scored = 0;
      for (int r = 0; r < c.rows; ++r) {
        INFO("row " << r);
        REQUIRE(same(got.scores[static_cast<std::size_t>(r)], want.scores[static_cast<std::size_t>(r)]));
        scored += std::isnan(want.scores[static_cast<std::size_t>(r)]) ? 0 : 1;
        for (int j = 0; j < c.d; ++j)
          REQUIRE(same(got.contrib[static_cast<std::size_t>(r * c.d + j)],
                       want.contrib[static_cast<std::size_t>(r * c.d + j)]));
      }
      CHECK(scored > c.windows / 2);  // the comparison is not NaN against NaN
      for (int j = 0; j < c.d; ++j) {
        REQUIRE(same_stats(got.out[static_cast<std::size_t>(j)], want.out[static_cast<std::size_t>(j)]));
        REQUIRE(same_stats(got.in[static_cast<std::size_t>(j)], want.in[static_cast<std::size_t>(j)]));
      }
      REQUIRE(same_stats(got.echo, want.echo));
      REQUIRE(same_stats(got.step, want.step));
    }
  }
}

TEST_CASE("sim: prediction_errors reports the first non-finite forecast", "[sim][scoring]") {
  Forecast c(3, 4, 2, 3, 2, 2, 1, 40, ScoreMethod::GaussianNll);
  c.pred[static_cast<std::size_t>(7 * c.P() + 3)] = NAN;       // window 7 (second batch), a log-variance
  c.pred[static_cast<std::size_t>(8 * c.P() + 0)] = INFINITY;  // window 8
  const ForecastResult want = host_forecast(c);
  REQUIRE(want.bad_row == 7 * 2 + 3);
  for (sim::Schedule sched : kSchedules) CHECK(device_forecast(c, sched).bad_row == want.bad_row);
}
