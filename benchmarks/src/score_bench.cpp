// rnnad_score_bench (docs/benchmarks.md, "Scoring a series"): times Scorer::score() of a whole
// series with a model that has windows (reconstruction, attention, windowed prediction), side by
// side in one run, on the CPU, on the GPU scoring on the host (set_device_scoring(false)), and on
// the GPU scoring on the device (docs/scoring.md §8). The series is N(0, 1) in the model's raw
// units (no data files needed on a bare GPU machine). Rounds interleave the three; the median per
// backend and the ratios to the CPU are printed as Markdown. Before timing, the GPU's two
// scorings are checked to give the same bits (gaussian_nll: within 1e-12 relative, CUDA's exp).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "rnnad/device.h"
#include "rnnad/error.h"
#include "rnnad/scoring.h"
#include "stats.h"

namespace {

struct Run {
  std::string name;
  std::unique_ptr<rnnad::Scorer> scorer;
  std::vector<double> ms;
};

double time_ms(rnnad::Scorer& s, const std::vector<float>& series, int64_t rows) {
  const auto t0 = std::chrono::steady_clock::now();
  const rnnad::SeriesScores out = s.score(series.data(), rows);
  const auto t1 = std::chrono::steady_clock::now();
  if (out.rows != rows) throw rnnad::Error("score returned " + std::to_string(out.rows) + " rows");
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path = "models/smd_machine-1-7.safetensors";
  int64_t rows = 20000, batch = 256;
  int rounds = 5, threads = 0;
  CLI::App app{
      "rnnad_score_bench: Scorer::score() of a series on the CPU, the GPU with host scoring, the GPU with device "
      "scoring"};
  app.add_option("--model", model_path, "A reconstruction, attention or windowed prediction model file")
      ->capture_default_str();
  app.add_option("--rows", rows, "Rows of the series")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--batch", batch, "Windows per engine call")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  app.add_option("--rounds", rounds, "Interleaved rounds (one call per backend each)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--threads", threads, "CPU threads of the CPU engine (0: all)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    auto model = rnnad::Model::load(model_path);
    const int64_t F = model->config().input_size();
    std::mt19937 rng(7);
    std::normal_distribution<float> n(0.0f, 1.0f);
    std::vector<float> series(static_cast<std::size_t>(rows * F));
    for (float& v : series) v = n(rng);
    std::vector<Run> runs;
    runs.push_back({"cpu",
                    std::make_unique<rnnad::Scorer>(
                        model, batch, rnnad::EngineOptions{.device = rnnad::Device::Cpu, .threads = threads}),
                    {}});
    if (rnnad::cuda_device_count() > 0) {
      runs.push_back({"cuda, host scoring", std::make_unique<rnnad::Scorer>(model, batch, rnnad::Device::Cuda), {}});
      runs.back().scorer->set_device_scoring(false);
      runs.push_back({"cuda, device scoring", std::make_unique<rnnad::Scorer>(model, batch, rnnad::Device::Cuda), {}});
      if (!runs.back().scorer->device_scoring()) runs.back().name += " (unavailable: host)";
      const rnnad::SeriesScores a = runs[1].scorer->score(series.data(), rows),
                                b = runs[2].scorer->score(series.data(), rows);
      const bool exact = model->config().scoring.method != rnnad::ScoringConfig::Method::GaussianNll;
      auto agree = [&](const std::vector<double>& x, const std::vector<double>& y) {
        if (exact) return std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
        for (std::size_t i = 0; i < x.size(); ++i)
          if (!(std::isnan(x[i]) && std::isnan(y[i])) && !(std::abs(x[i] - y[i]) <= 1e-12 * (1.0 + std::abs(y[i]))))
            return false;
        return true;
      };
      if (!agree(a.scores, b.scores) || !agree(a.contributions, b.contributions)) {
        std::fprintf(stderr, "rnnad_score_bench: device and host scoring differ\n");
        return 1;
      }
    } else {
      std::printf("no CUDA device: the GPU rows are not run\n");
    }
    for (Run& r : runs) (void)time_ms(*r.scorer, series, rows);  // warm-up
    for (int i = 0; i < rounds; ++i)
      for (Run& r : runs) r.ms.push_back(time_ms(*r.scorer, series, rows));
    std::printf("\n%s, %lld rows, batch %lld, %d rounds (median, p25-p75)\n\n", model_path.c_str(),
                static_cast<long long>(rows), static_cast<long long>(batch), rounds);
    std::printf("| backend | engine | ms per series | rows/s | vs cpu |\n|---|---|---|---|---|\n");
    const double cpu = rnnad::bench::summarize(runs[0].ms).median;
    for (Run& r : runs) {
      const rnnad::bench::Stats s = rnnad::bench::summarize(r.ms);
      std::printf("| %s | %s | %.1f (%.1f-%.1f) | %.3g | %.2f |\n", r.name.c_str(),
                  r.scorer->engine().backend_name().c_str(), s.median, s.p25, s.p75,
                  1e3 * static_cast<double>(rows) / s.median, cpu / s.median);
    }
    return 0;
  } catch (const rnnad::Error& e) {
    std::fprintf(stderr, "rnnad_score_bench: %s\n", e.what());
    return 1;
  }
}
