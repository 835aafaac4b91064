// Labels and metrics shared by detect and eval (evaluation.h).
#include "evaluation.h"

#include <algorithm>
#include <map>

#include "rnnad/error.h"
#include "text.h"
#include "window_span.h"

namespace rnnad::cli {
namespace {

namespace fs = std::filesystem;

std::string choose_key(const std::map<std::string, std::vector<TimeWindow>>& all, const std::string& key,
                       const fs::path& labels, const fs::path& series_file) {
  if (!key.empty()) {
    if (!all.count(key)) throw Error(labels.string() + ": no key '" + key + "' (--labels-key)");
    return key;
  }
  if (all.size() == 1) return all.begin()->first;
  std::string match, keys;
  for (const auto& [k, w] : all) {
    keys += (keys.empty() ? "" : ", ") + k;
    if (fs::path(k).filename() == series_file.filename()) {
      if (!match.empty()) throw Error(labels.string() + ": keys " + match + " and " + k + " both name " +
                                      series_file.filename().string() + "; choose one with --labels-key");
      match = k;
    }
  }
  if (match.empty())
    throw Error(labels.string() + ": no key names " + series_file.filename().string() + "; choose one with --labels-key (" +
                keys + ")");
  return match;
}

std::string prf_text(const Prf& p) {
  return "precision " + fixed(p.precision) + ", recall " + fixed(p.recall) + ", F1 " + fixed(p.f1);
}

std::string random_text(const RandomBaseline& r) {
  return fixed(r.mean) + " (" + fixed(r.min) + "-" + fixed(r.max) + " over " + std::to_string(r.seeds) + " seeds)";
}

}  // namespace

RowLabels load_labels(const fs::path& path, const std::string& key, const fs::path& series_file, int64_t rows,
                      std::span<const int64_t> timestamps, int64_t input_rows, std::span<const int64_t> file_row) {
  RowLabels out;
  out.labels.assign(static_cast<std::size_t>(rows), 0);
  if (path.extension() == ".json") {
    const auto all = read_nab_windows(path);
    const std::string k = choose_key(all, key, path, series_file);
    if (timestamps.empty())
      throw Error(path.string() + ": NAB windows need timestamps, and " + series_file.string() + " has no timestamp column");
    WindowsInSpan in_span = windows_in_span(all.at(k), timestamps, path.string() + ": " + k);
    out.notes = std::move(in_span.notes);
    out.segments = nab_windows_to_rows(in_span.windows, timestamps, k);
    out.nab = true;
    for (const RowRange& w : out.segments)
      std::fill(out.labels.begin() + w.first, out.labels.begin() + w.last + 1, uint8_t{1});
    out.description = count(static_cast<int64_t>(out.segments.size()), "NAB window") + " of " + k + " (" + path.string() + ")";
  } else {
    const std::vector<uint8_t> file = read_binary_labels(path);
    const auto n = static_cast<int64_t>(file.size());
    if (n != input_rows)
      throw Error(path.string() + ": " + count(n, "label") + " for " + count(input_rows, "row") + " of " +
                  series_file.string() + " (one 0/1 line per data row is needed)");
    for (int64_t r = 0; r < rows; ++r)
      out.labels[static_cast<std::size_t>(r)] = file[static_cast<std::size_t>(file_row.empty() ? r : file_row[static_cast<std::size_t>(r)])];
    out.segments = label_runs(out.labels);
    out.description = "0/1 labels (" + path.string() + ")";
  }
  const auto anomalous = std::count(out.labels.begin(), out.labels.end(), uint8_t{1});
  out.description += ": " + count(anomalous, "anomalous row") + " in " + count(static_cast<int64_t>(out.segments.size()), "segment");
  return out;
}

Evaluation evaluate(std::span<const double> scores, std::span<const uint8_t> flags, const RowLabels& labels) {
  Evaluation e;
  e.flagged = std::count_if(flags.begin(), flags.end(), [](uint8_t f) { return f != 0; });
  e.point = point_prf(flags, labels.labels);
  e.adjusted = adjusted_prf(flags, labels.labels);
  e.point_random = random_f1_at_flag_count_baseline(scores, labels.labels, e.flagged, Adjust::none());
  e.adjusted_random = random_f1_at_flag_count_baseline(scores, labels.labels, e.flagged, Adjust::point_adjust());
  const std::vector<RowRange> runs = label_runs(flags);
  e.event_count = static_cast<int64_t>(runs.size());
  e.events = event_prf(runs, labels.segments);
  std::vector<double> rounded(scores.begin(), scores.end());
  for (double& v : rounded) v = static_cast<double>(static_cast<float>(v));
  e.oracle = best_f1_oracle(rounded, labels.labels);
  if (labels.nab) {
    const NabFileInput file{"series", flags, labels.segments};
    e.nab = nab_score_all_profiles(std::span<const NabFileInput>(&file, 1));
  }
  return e;
}

void print_evaluation(std::ostream& out, const RowLabels& labels, const Evaluation& e) {
  out << "labels:     " << labels.description << "\n"
      << "point:      " << prf_text(e.point) << " (tp " << e.point.tp << ", fp " << e.point.fp << ", fn " << e.point.fn
      << "); random scores flagging as many rows: F1 " << random_text(e.point_random) << "\n"
      << "adjusted:   point-adjusted " << prf_text(e.adjusted) << "; random scores flagging as many rows: PA-F1 "
      << random_text(e.adjusted_random) << " (point adjustment favours long segments: docs/evaluation.md)\n"
      << "events:     event-wise " << prf_text(e.events) << " (" << e.events.tp << " of "
      << labels.segments.size() << " segments detected, " << count(e.events.fp, "false-alarm event") << " of "
      << e.event_count << ")\n";
  if (e.nab) {
    const auto& nab = *e.nab;
    out << "NAB score:  " << (nab[0].normalized ? fixed(*nab[0].normalized, 1) : std::string("n/a")) << " standard";
    for (std::size_t p = 1; p < nab.size(); ++p)
      out << ", " << (nab[p].normalized ? fixed(*nab[p].normalized, 1) : std::string("n/a")) << " " << nab[p].profile.name;
    const NabFileScore& f = nab[0].files.front();
    out << " (this file alone: 0 = flag nothing, 100 = perfect; " << f.windows_detected << " of " << f.windows_counted
        << " windows detected, " << count(f.fp, "false-alarm row") << ")\n";
  }
  out << "oracle:     best F1 " << fixed(e.oracle.at_best.f1) << " at threshold " << num(e.oracle.threshold)
      << " (chosen by looking at the labels: an upper bound, not a result)\n";
}

}  // namespace rnnad::cli
