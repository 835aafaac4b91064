// `rnnad eval` (docs/cli.md): the metrics of an existing detect output against labels, by the
// same code detect uses (evaluation.h); with --threshold, the score column re-thresholded first by
// the code detect uses (threshold_options.h, rnnad/threshold_apply.h).
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "command.h"
#include "evaluation.h"
#include "rnnad/error.h"
#include "rnnad/model.h"
#include "rnnad/threshold_apply.h"
#include "rnnad_io/csv_reader.h"
#include "text.h"
#include "threshold_options.h"

namespace rnnad::cli {
namespace {

struct EvalOptions {
  std::string scores, labels, labels_key, series_name;
  ThresholdOptions threshold;  ///< method "" = judge the file's is_anomaly column
};

int run_eval(const EvalOptions& o) {
  // The detect output: its timestamp column (when it has one), score and, unless --threshold
  // re-thresholds the scores, is_anomaly. Missing cells (rows without a score) read as NaN.
  const bool rethreshold = !o.threshold.method.empty();
  CsvOptions csv;
  csv.header = CsvHeader::Present;
  csv.value_columns = {"score"};
  if (!rethreshold) csv.value_columns.push_back("is_anomaly");
  const Series s = read_csv_series(o.scores, csv);
  const int64_t rows = s.rows();
  std::vector<double> scores(static_cast<std::size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) scores[static_cast<std::size_t>(r)] = static_cast<double>(s.value(r, 0));
  const std::string name = o.series_name.empty() ? o.scores : o.series_name;
  const RowLabels labels = load_labels(o.labels, o.labels_key, name, rows, s.timestamps, rows, {});
  for (const std::string& n : labels.notes) std::cerr << "rnnad: note: " << n << "\n";

  std::vector<uint8_t> flags(static_cast<std::size_t>(rows), 0);
  std::string threshold_line;
  if (rethreshold) {
    // No model file: every setting comes from the command line, else rnnad's defaults.
    ThresholdChoice choice = resolve_threshold(o.threshold, ModelConfig{});
    for (const std::string& n : choice.notes) std::cerr << "rnnad: note: " << n << "\n";
    RowThresholds t = apply_threshold(scores, choice.settings);
    const std::string run_text = describe_run(choice.settings, t, o.threshold.calibration_rows.has_value());
    threshold_line = choice.description + (run_text.empty() ? "" : "; " + run_text);
    flags = std::move(t.flags);
  } else {
    for (int64_t r = 0; r < rows; ++r) {
      const float score = s.value(r, 0), flag = s.value(r, 1);
      if (std::isnan(flag)) {
        if (!std::isnan(score)) throw FormatError(s.where(r, 1) + ": empty is_anomaly on a row with a score");
        continue;
      }
      if (flag != 0.0f && flag != 1.0f) throw FormatError(s.where(r, 1) + ": is_anomaly must be 0 or 1");
      if (std::isnan(score) && flag != 0.0f) throw FormatError(s.where(r, 1) + ": is_anomaly 1 on a row without a score");
      flags[static_cast<std::size_t>(r)] = flag != 0.0f ? 1 : 0;
    }
  }
  const Evaluation e = evaluate(scores, flags, labels);
  std::cout << "scores:     " << o.scores << ": " << count(rows, "row") << ", " << count(e.flagged, "flagged row") << "\n";
  if (rethreshold) std::cout << "threshold:  " << threshold_line << "\n";
  print_evaluation(std::cout, labels, e);
  return kExitOk;
}

}  // namespace

Command add_eval(CLI::App& parent) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* app = parent.add_subcommand("eval", "Metrics of an existing detect output (its per-row CSV) against labels; "
                                                "with --threshold, of its score column re-thresholded");
  app->add_option("--scores,-s", o->scores, "Per-row CSV written by rnnad detect --output")->required();
  app->add_option("--labels,-l", o->labels, "Labels: NAB combined_windows.json (.json), or a 0/1 file (one line per row)")
      ->required();
  app->add_option("--labels-key", o->labels_key, "Key of the series in a NAB labels file (default: the only key, or the "
                                                 "key naming --series-name's file name)");
  app->add_option("--series-name", o->series_name, "The input file detect read, to pick the NAB key (default: --scores)");
  // The threshold options of detect; here every default is rnnad's (there is no model file), and
  // the other options need --threshold.
  o->threshold.add_to(*app);
  CLI::Option* method = app->get_option("--threshold");
  method->description("Re-threshold the score column with static, ndt (Telemanom), spot or dspot instead of judging "
                      "its is_anomaly column (settings: the options below, else rnnad's defaults)");
  for (const char* name :
       {"--threshold-value", "--calibration-rows", "--spot-q", "--spot-level", "--spot-depth", "--ndt-mode"})
    app->get_option(name)->needs(method);
  return {app, [o] { return run_eval(*o); }};
}

}  // namespace rnnad::cli
