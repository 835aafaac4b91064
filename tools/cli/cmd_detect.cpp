// `rnnad detect` (docs/cli.md): a CSV series through a model, a threshold, events, metrics.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "atomic_file.h"
#include "command.h"
#include "detect_output.h"
#include "detect_summary.h"
#include "evaluation.h"
#include "input_options.h"
#include "option_checks.h"
#include "progress.h"
#include "rnnad/detector.h"
#include "rnnad/device.h"
#include "rnnad/engine.h"
#include "rnnad/error.h"
#include "rnnad/model.h"
#include "rnnad/series.h"
#include "rnnad_io/csv_reader.h"
#include "text.h"
#include "threshold_options.h"

namespace rnnad::cli {
namespace {

namespace fs = std::filesystem;

struct DetectOptions {
  std::string model, input, labels, labels_key, output, events, device = "auto";
  int64_t batch = 256, merge_gap = 0, top_features = 3, max_events = 20;
  int threads = 1;
  InputOptions in;
  ThresholdOptions threshold;
};

void note(const std::string& line) { std::cerr << "rnnad: note: " << line << "\n"; }

/// "out.csv" -> "out.events.json" (the events JSON's default name).
fs::path default_events_path(const fs::path& output) {
  fs::path p = output;
  return p.replace_extension(".events.json");
}

/// The data row of the input file each prepared row came from (for 0/1 labels): rows are read in
/// file order, so a row's line finds its position among the lines read.
std::vector<int64_t> file_rows(const std::vector<int64_t>& lines_read, const Series& prepared) {
  std::vector<int64_t> rows(prepared.lines.size());
  for (std::size_t r = 0; r < rows.size(); ++r)
    rows[r] = std::lower_bound(lines_read.begin(), lines_read.end(), prepared.lines[r]) - lines_read.begin();
  return rows;
}

int run_detect(const DetectOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  int device_index = 0;
  const Device device = checked_device(o.device, &device_index);  // a missing GPU fails before the input is read
  auto model = Model::load(o.model);
  const ModelConfig& mc = model->config();
  ThresholdChoice threshold = resolve_threshold(o.threshold, mc);
  for (const std::string& n : threshold.notes) note(n);

  Series series = read_csv_series(o.input, o.in.csv());
  const bool binary_labels = !o.labels.empty() && fs::path(o.labels).extension() != ".json";
  const std::vector<int64_t> lines_read = binary_labels ? series.lines : std::vector<int64_t>{};
  const int64_t rows_read = series.rows();
  const PrepareReport report = prepare_series(series, o.in.policy());
  for (const std::string& n : report.notes) note(n);
  const ModelFit fit = check_model_fit(series, report, mc);
  for (const std::string& n : fit.notes) note(n);

  // Labels are read before the model runs: a bad label file fails fast and writes nothing.
  std::optional<RowLabels> labels;
  if (!o.labels.empty()) {
    const std::vector<int64_t> rows = binary_labels ? file_rows(lines_read, series) : std::vector<int64_t>{};
    labels = load_labels(o.labels, o.labels_key, o.input, series.rows(), series.timestamps, rows_read, rows);
    for (const std::string& n : labels->notes) note(n);
  }

  // The outputs are created (under temporary names) before the model runs, so an output that
  // cannot be written fails fast; they are renamed onto their targets only when both are complete.
  std::optional<AtomicFile> csv, json;
  fs::path events_path;
  if (!o.output.empty()) {
    events_path = o.events.empty() ? default_events_path(o.output) : fs::path(o.events);
    check_output_paths({fs::path(o.output), events_path}, {fs::path(o.model), fs::path(o.input), fs::path(o.labels)});
    csv.emplace(o.output);
    json.emplace(events_path);
  }

  DetectorOptions d;
  d.device = device;
  d.device_index = device_index;
  d.batch = o.batch;
  d.threads = o.threads;
  d.threshold = threshold.settings;
  d.events.merge_gap = o.merge_gap;
  d.events.top_k = o.top_features;
  Detector detector(model, d);
  const std::string backend = detector.engine().backend_name();
  if (d.device == Device::Auto) {
    if (!detector.engine().notice().empty()) std::cerr << detector.engine().notice() << "\n";  // "rnnad: device auto: ..."
    std::cerr << "rnnad: backend: " << backend << "\n";
  }
  ProgressBar bar("scoring");
  const DetectionResult result =
      detector.run(series, fit.usable, [&](int64_t done, int64_t total) { bar.update(done, total); });
  bar.finish();
  for (const std::string& line : result.diagnostics) std::cerr << "rnnad: warning: " << line << "\n";
  const std::string run_text = describe_run(threshold.settings, result.threshold, o.threshold.calibration_rows.has_value());
  if (!run_text.empty()) threshold.description += "; " + run_text;

  std::optional<Evaluation> evaluation;
  if (labels) evaluation = evaluate(result.scores, result.threshold.flags, *labels);

  std::string outputs;
  if (csv) {
    RunInfo info{o.input, o.model, backend, threshold.description, {}};
    info.notes = report.notes;
    info.notes.insert(info.notes.end(), fit.notes.begin(), fit.notes.end());
    if (labels) info.notes.insert(info.notes.end(), labels->notes.begin(), labels->notes.end());
    info.notes.insert(info.notes.end(), result.diagnostics.begin(), result.diagnostics.end());
    write_rows_csv(csv->stream(), series, result, report.filled);
    const std::string text =
        events_json(series, result, threshold.settings, info, labels ? &*labels : nullptr, evaluation ? &*evaluation : nullptr)
            .dump(2) + "\n";
    std::fwrite(text.data(), 1, text.size(), json->stream());
    csv->commit();
    json->commit();
    outputs = o.output + " (" + count(series.rows(), "row") + "), " + events_path.string() + " (" +
              count(static_cast<int64_t>(result.events.size()), "event") + ")";
  }

  int64_t flagged = 0;
  for (uint8_t f : result.threshold.flags) flagged += f;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "input:      " << o.input << ": " << describe_series(series);
  if (series.rows() != rows_read) std::cout << " (" << count(rows_read, "row") << " read)";
  std::cout << "\npolicy:     " << o.in.describe() << "\n"
            << "model:      " << o.model << ": " << config_summary(mc) << "\n"
            << "device:     " << backend << "; " << fixed(seconds, 1) << " s in all\n"
            << "scored:     " << result.scored_rows << " of " << count(series.rows(), "row");
  if (result.scored_rows < series.rows())
    std::cout << " (" << series.rows() - result.scored_rows << " without a score: the model's warm-up"
              << (fit.skipped.empty() ? "" : " and segments too short for it") << ")";
  std::cout << "\nthreshold:  " << threshold.description << "\n"
            << "flagged:    " << count(flagged, "row") << " in " << count(static_cast<int64_t>(result.events.size()), "event")
            << "\n";
  if (!result.events.empty()) print_events(std::cout, series, result, o.max_events);
  if (labels) print_evaluation(std::cout, *labels, *evaluation);
  if (!outputs.empty()) std::cout << "outputs:    " << outputs << "\n";
  return kExitOk;
}

}  // namespace

Command add_detect(CLI::App& parent) {
  auto o = std::make_shared<DetectOptions>();
  CLI::App* app = parent.add_subcommand("detect", "Score a CSV series with a model, threshold the scores, group flagged rows "
                                                  "into events, compare with labels; write the per-row CSV and events JSON");
  app->add_option("--model,-m", o->model, "Model file (.safetensors) with scoring settings")->required();
  app->add_option("--input,-i", o->input, "CSV series (docs/input.md)")->required();
  app->add_option("--labels,-l", o->labels, "Labels: NAB combined_windows.json (.json), or a 0/1 file (one line per data row)");
  app->add_option("--labels-key", o->labels_key, "Key of the series in a NAB labels file (default: the only key, or the "
                                                 "key naming the input's file name)");
  app->add_option("--output,-o", o->output, "Per-row CSV to write (and the events JSON beside it); default: summary only");
  app->add_option("--events", o->events, "Events JSON to write (default: OUTPUT with extension .events.json)")->needs(
      app->get_option("--output"));
  app->add_option("--device,-d", o->device, "auto, cpu, cuda or cuda:N")->check(device_choice())->capture_default_str();
  app->add_option("--batch", o->batch, "Windows per engine call")->check(CLI::Range(int64_t{1}, int64_t{1} << 20))->capture_default_str();
  app->add_option("--threads", o->threads, "CPU threads per engine call (0 = all cores; scores are bit-identical for a "
                                           "given count and agree within float32 rounding across counts)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app->add_option("--merge-gap", o->merge_gap, "Merge events separated by at most this many unflagged rows")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--top-features", o->top_features, "Contributing features reported per event")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--max-events", o->max_events, "Events listed in the summary (all are in the events JSON)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  o->in.add_to(*app);
  o->threshold.add_to(*app);
  return {app, [o] { return run_detect(*o); }};
}

}  // namespace rnnad::cli
