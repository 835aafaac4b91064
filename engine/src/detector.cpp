// Detection over a prepared series (rnnad/detector.h).
#include "rnnad/detector.h"

#include <cmath>
#include <limits>
#include <string>

#include "rnnad/error.h"
#include "rnnad/output_diagnostics.h"

namespace rnnad {

Detector::Detector(std::shared_ptr<const Model> model, DetectorOptions options)
    : m_model(model), m_options(std::move(options)), m_scorer(std::move(model), m_options.batch,
               EngineOptions{.device = m_options.device, .device_index = m_options.device_index,
                             .threads = m_options.threads}) {}

Detector::~Detector() = default;

DetectionResult Detector::run(const Series& series, std::span<const SeriesSegment> segments, const Progress& progress) {
  const ModelConfig& mc = m_model->config();
  const int64_t F = series.features(), rows = series.rows();
  if (F != mc.input_size())
    throw ShapeError(series.source + ": the series has " + std::to_string(F) + " features, the model's input_size is " +
                     std::to_string(mc.input_size()));
  DetectionResult out;
  out.rows = rows;
  out.feature_index = m_scorer.feature_index();
  const int64_t Fs = out.features();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  out.scores.assign(static_cast<std::size_t>(rows), kNaN);
  out.contributions.assign(static_cast<std::size_t>(rows * Fs), kNaN);

  int64_t total = 0, done = 0;
  for (const SeriesSegment& seg : segments) {
    if (seg.begin < 0 || seg.end > rows || seg.begin >= seg.end)
      throw ShapeError(series.source + ": segment [" + std::to_string(seg.begin) + ", " + std::to_string(seg.end) +
                       ") is outside the series' " + std::to_string(rows) + " rows");
    total += seg.rows();
  }
  for (const SeriesSegment& seg : segments) {
    if (progress) m_scorer.set_progress([&](int64_t n) { progress(done + n, total); });
    const auto n = static_cast<std::size_t>(seg.rows());
    m_scorer.score_into(series.values.data() + seg.begin * F, seg.rows(),
                        std::span<double>(out.scores).subspan(static_cast<std::size_t>(seg.begin), n),
                        std::span<double>(out.contributions).subspan(static_cast<std::size_t>(seg.begin * Fs), n * static_cast<std::size_t>(Fs)));
    done += seg.rows();
  }
  m_scorer.set_progress({});
  for (double s : out.scores) out.scored_rows += std::isnan(s) ? 0 : 1;

  out.threshold = apply_threshold(out.scores, m_options.threshold);
  EventInputs in;
  in.scores = out.scores;
  in.flags = out.threshold.flags;
  if (series.has_timestamps()) in.timestamps = series.timestamps;
  in.contributions = out.contributions;
  in.features = Fs;
  out.events = find_events(in, m_options.events);
  out.diagnostics = diagnose_output_spread(m_scorer.output_spread(), mc, out.feature_index, m_model->source());
  return out;
}

}  // namespace rnnad
