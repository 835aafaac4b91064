// A minimal scoring service embedding rnnad (docs/embedding.md), built against the installed
// package and run by the install_consumer test. The model is loaded once; each worker thread owns
// one Scorer (an Engine and its buffers), created on the thread's first request; a request is the
// latest rows of one metric and the answer is the newest row's score and verdict under the model
// file's static threshold. Bad requests get an error answer naming the cause; the service goes on.
// Checks: 4 workers answer 200 requests exactly as one thread does (bit for bit), and a request
// with a NaN or too few rows is refused without harm.
// Usage: rnnad_service MODEL REFERENCE (models/nab_machine_temp{,.reference}.safetensors)
#include <rnnad/error.h>
#include <rnnad/safetensors.h>
#include <rnnad/scoring.h>
#include <rnnad/threshold_apply.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Answer {
  bool ok = false;
  double score = NAN;   // newest row's score (NaN: the request does not cover a full window yet)
  bool anomaly = false;
  std::string error;    // set when !ok: one line naming the problem
};

class ScoringService {
 public:
  // Loads and validates the model once (throws rnnad::Error with the file name when it is bad).
  explicit ScoringService(const std::string& model_path)
      : m_model(rnnad::Model::load(model_path)),
        m_threshold(rnnad::threshold_settings(rnnad::ThresholdMethod::Static, m_model->config().threshold).value.value()) {}

  // rows [n × input_size], oldest first, in the metric's own units. Thread-safe: each thread
  // scores on its own Scorer; the Model is shared read-only.
  Answer handle(std::span<const double> rows) const {
    thread_local std::unique_ptr<rnnad::Scorer> scorer;  // one per worker thread, kept for its lifetime
    try {
      if (!scorer) scorer = std::make_unique<rnnad::Scorer>(m_model, 64, rnnad::EngineOptions{.device = rnnad::Device::Cpu});
      const auto n = static_cast<int64_t>(rows.size()) / m_model->config().input_size();
      const rnnad::SeriesScores s = scorer->score(rows.data(), n);
      Answer a{true, s.scores.back(), false, {}};
      a.anomaly = std::isfinite(a.score) && a.score > m_threshold;
      return a;
    } catch (const rnnad::Error& e) {  // bad input (NaN, too few rows, ...): answer, do not crash
      return {false, NAN, false, e.what()};
    }
  }

 private:
  std::shared_ptr<const rnnad::Model> m_model;
  double m_threshold;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: rnnad_service MODEL REFERENCE\n";
    return 2;
  }
  const ScoringService service(argv[1]);
  const auto ref = rnnad::SafetensorsFile::read(argv[2]);
  const std::vector<double> series = ref.to_f64(*ref.find("series"));

  // 200 requests: the latest 128 rows at 200 points of the series.
  constexpr std::size_t kRequests = 200, kRows = 128;
  auto request = [&](std::size_t i) { return std::span<const double>(series).subspan(i * 11, kRows); };
  std::vector<Answer> alone(kRequests), pooled(kRequests);
  for (std::size_t i = 0; i < kRequests; ++i) alone[i] = service.handle(request(i));

  std::atomic<std::size_t> next{0};
  std::vector<double> micros(kRequests);
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      for (std::size_t i; (i = next++) < kRequests;) {
        const auto t0 = std::chrono::steady_clock::now();
        pooled[i] = service.handle(request(i));
        micros[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      }
    });
  for (auto& t : workers) t.join();

  int failures = 0, anomalies = 0;
  for (std::size_t i = 0; i < kRequests; ++i) {
    const Answer &a = alone[i], &b = pooled[i];
    if (!a.ok || !b.ok || std::memcmp(&a.score, &b.score, sizeof(double)) != 0 || a.anomaly != b.anomaly) ++failures;
    anomalies += a.anomaly ? 1 : 0;
  }
  std::vector<double> bad(kRows, 80.0);
  bad[100] = NAN;
  const Answer nan_answer = service.handle(bad);
  const Answer short_answer = service.handle(std::span<const double>(series).first(10));
  if (nan_answer.ok || nan_answer.error.find("row 100") == std::string::npos) ++failures;
  if (short_answer.ok || short_answer.error.find("10 rows") == std::string::npos) ++failures;
  std::nth_element(micros.begin(), micros.begin() + kRequests / 2, micros.end());
  std::cout << kRequests << " requests on 4 threads: " << anomalies << " anomalous, median " << micros[kRequests / 2]
            << " us per request (128 rows); bad requests answered: \"" << nan_answer.error << "\", \""
            << short_answer.error << "\"\n"
            << (failures ? "FAILED" : "OK") << "\n";
  return failures ? 1 : 0;
}
