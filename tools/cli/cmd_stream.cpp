// `rnnad stream` (docs/streaming.md, "rnnad stream"; docs/cli.md): live lines
// `stream_id,timestamp,v1,...,vF` from a file or stdin through a StreamPool, alarms as JSON lines
// on stdout, rejected lines and the exit summary on stderr.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "atomic_file.h"
#include "command.h"
#include "option_checks.h"
#include "rnnad/device.h"
#include "rnnad/error.h"
#include "rnnad/labels.h"
#include "rnnad/model.h"
#include "rnnad/stream_pool.h"
#include "stream_input.h"
#include "stream_report.h"
#include "text.h"
#include "threshold_options.h"

namespace rnnad::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct StreamOptions {
  std::string model, input = "-", device = "cpu", checkpoint, restore, missing = "drop", gap = "restart";
  int64_t shards = 1, max_batch = 256, period = 0, checkpoint_every = 0, max_streams = 0, top_features = 3;
  double gap_factor = 3.0;
  bool all_rows = false, strict = false, no_flush = false;
  ThresholdOptions threshold;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string timestamp_text(int64_t t, TimeForm form) {
  return form == TimeForm::DateTime ? format_timestamp(t) : std::to_string(t);
}

/// Throws Error before anything runs when the checkpoint would destroy data (check_output_paths:
/// an input of the run, a directory) or could not be written at the end (its directory is missing
/// or not writable).
void check_checkpoint_path(const fs::path& checkpoint, const std::vector<fs::path>& inputs) {
  check_output_paths({checkpoint}, inputs);
  // The checkpoint is written at the end (or every N samples): a directory that is missing or not
  // writable fails now, before any input is read, not after a long run.
  std::error_code ec;
  const fs::path dir = checkpoint.has_parent_path() ? checkpoint.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw Error(checkpoint.string() + ": directory '" + dir.string() + "' does not exist; the checkpoint could not be written");
  if (::access(dir.c_str(), W_OK) != 0)
    throw Error(checkpoint.string() + ": directory '" + dir.string() + "' is not writable; the checkpoint could not be written");
}

/// The message of a sample the pool rejected.
std::string rejection(SampleStatus s, std::string_view name, int64_t timestamp, TimeForm form, const StreamOptions& o) {
  const std::string t = timestamp_text(timestamp, form), stream = "'" + std::string(name) + "'";
  switch (s) {
    case SampleStatus::NonFinite:
      return "stream " + stream + ": a value is infinite, or missing with " +
             (o.missing == "drop" ? "--missing drop" : "nothing to fill from yet (--missing ffill)");
    case SampleStatus::Duplicate: return "stream " + stream + ": timestamp " + t + " repeats the last accepted one (the first is kept)";
    case SampleStatus::OutOfOrder: return "stream " + stream + ": timestamp " + t + " is before the last accepted one";
    case SampleStatus::UnknownStream:
      return "stream " + stream + ": a new stream beyond --max-streams " + std::to_string(o.max_streams);
    default: return "stream " + stream + ": " + sample_status_name(s);
  }
}

/// The samples of one batch (the complete lines of one read), reused across batches.
struct Batch {
  std::vector<uint64_t> ids;
  std::vector<int64_t> timestamps;
  std::vector<double> values;  ///< [n × input_size]
  std::vector<int64_t> lines;
  std::vector<std::string_view> names;  ///< each sample's stream name (valid until the next read)
  std::vector<SampleStatus> status;
  void clear() {
    ids.clear(), timestamps.clear(), values.clear(), lines.clear(), names.clear();
  }
};

int run_stream(const StreamOptions& o) {
  const auto started = Clock::now();
  StopSignals signals;  // before the pool's Engines start any thread
  auto model = Model::load(o.model);
  const ModelConfig& mc = model->config();
  ThresholdChoice threshold = resolve_threshold(o.threshold, mc);
  for (const std::string& n : threshold.notes) std::cerr << "rnnad: note: " << n << "\n";
  ThresholdSettings& ts = threshold.settings;
  if (ts.method == ThresholdMethod::Static && !ts.value && ts.calibration_rows < 0)
    throw Error("--threshold static without a value (the model file has none) needs --calibration-rows, or give "
                "--threshold-value");
  const bool calibrated = ts.method != ThresholdMethod::Static || !ts.value;
  if (calibrated)
    threshold.description += "; calibrated per stream on its first " +
                             count(ts.calibration_rows < 0 ? default_calibration_rows(0, ts) : ts.calibration_rows, "scored row") +
                             (ts.calibration_rows < 0 ? " (rnnad default: the fewest the method can use)" : " (--calibration-rows)");
  if (!o.checkpoint.empty()) check_checkpoint_path(o.checkpoint, {o.model, o.input});

  StreamPoolOptions po;
  po.shards = static_cast<std::size_t>(o.shards);
  po.max_batch = o.max_batch;
  po.device = checked_device(o.device, &po.device_index);
  po.threshold = ts;
  po.input.missing = o.missing == "ffill" ? StreamInputPolicy::Missing::Ffill : StreamInputPolicy::Missing::Drop;
  po.input.period = o.period;
  po.input.gap_factor = o.gap_factor;
  po.input.gap = o.gap == "bridge" ? StreamInputPolicy::Gap::Bridge : StreamInputPolicy::Gap::Restart;
  StreamPool pool(model, po);
  if (!o.restore.empty()) pool.restore(o.restore);
  const int64_t restored = static_cast<int64_t>(pool.size());
  LineReader reader(o.input);
  const RowFeatures features = row_features(pool, o.top_features);
  const std::size_t F = static_cast<std::size_t>(mc.input_size());

  StreamNames names;
  TimeForm form = TimeForm::Unknown;
  Batch batch;
  std::string out, err;
  std::array<int64_t, 4> verdicts{};  // final rows by RowVerdict
  std::vector<std::pair<std::string, int64_t>> rejected, repaired;  // reason -> lines
  auto tally = [](std::vector<std::pair<std::string, int64_t>>& list, const std::string& key) {
    auto it = std::find_if(list.begin(), list.end(), [&](const auto& e) { return e.first == key; });
    if (it == list.end()) list.emplace_back(key, 1);
    else ++it->second;
  };
  std::vector<std::pair<int64_t, std::string>> messages;  // (line, message) of one batch
  std::optional<std::string> strict_error;
  auto reject = [&](int64_t line, const std::string& reason, const std::string& message) {
    tally(rejected, reason);
    const std::string text = reader.name() + ":" + std::to_string(line) + ": " + message;
    if (o.strict && !strict_error) strict_error = text;
    messages.emplace_back(line, "rnnad: warning: " + text + " (rejected: " + reason + ")\n");
  };
  auto sink = [&](const ScoredRow& r) {
    ++verdicts[static_cast<std::size_t>(r.verdict)];
    if (o.all_rows || r.verdict == RowVerdict::Anomaly) append_row_json(out, r, names.json(r.stream), form, features);
  };
  auto write_out = [&] {  // rows reach the reader of stdout with each batch; a failed write is an error (exit 3)
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0)
      throw IoError(std::string("<stdout>: cannot write the rows: ") + std::strerror(errno));
    out.clear();
  };

  int64_t lines = 0, headers = 0, samples = 0, added = 0, since_checkpoint = 0, checkpoints = 0;
  double busy = 0.0;
  LatencyLog latency;
  std::vector<double> values(F);
  const auto reading = Clock::now();
  while (!strict_error && reader.read(signals)) {
    const auto t_read = Clock::now();
    batch.clear();
    while (!strict_error) {
      const std::optional<LineReader::Line> line = reader.next_line();
      if (!line) break;
      lines = line->number;
      if (line->too_long) {
        reject(line->number, "line_too_long", "longer than " + std::to_string(LineReader::kMaxLine) + " bytes");
        continue;
      }
      if (line->text.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank
      if (line->number == 1 && is_header_line(line->text)) {
        ++headers;
        continue;
      }
      ParsedLine p;
      if (const auto e = parse_stream_line(line->text, F, form, p, values)) {
        reject(line->number, e->reason, e->message);
        continue;
      }
      uint64_t id = StreamNames::id_of(p.name);
      if (!names.find(p.name)) {
        const bool in_pool = pool.has_stream(id);
        const bool room = o.max_streams == 0 || static_cast<int64_t>(pool.size()) < o.max_streams;
        if (in_pool || room) {
          if (!names.add(p.name)) {
            reject(line->number, "id_collision", "stream '" + std::string(p.name) + "' has the id of another stream (" +
                                                     std::to_string(id) + "); rename one");
            continue;
          }
          if (!in_pool) pool.add_stream(id), ++added;
        }
      }
      batch.ids.push_back(id);
      batch.timestamps.push_back(p.timestamp);
      batch.values.insert(batch.values.end(), values.begin(), values.end());
      batch.lines.push_back(line->number);
      batch.names.push_back(p.name);
    }
    const int64_t n = static_cast<int64_t>(batch.ids.size());
    if (n > 0) {
      batch.status.resize(batch.ids.size());
      pool.push_batch(batch.ids, batch.timestamps, batch.values, sink, batch.status);
      for (std::size_t i = 0; i < batch.status.size(); ++i) {
        const SampleStatus s = batch.status[i];
        if (s == SampleStatus::Filled || s == SampleStatus::AfterGap) tally(repaired, sample_status_name(s));
        if (!accepted(s))
          reject(batch.lines[i], sample_status_name(s), rejection(s, batch.names[i], batch.timestamps[i], form, o));
      }
      samples += n;
      since_checkpoint += n;
    }
    write_out();
    std::sort(messages.begin(), messages.end());
    for (const auto& m : messages) err += m.second;
    messages.clear();
    std::fputs(err.c_str(), stderr);
    err.clear();
    const double took = seconds_since(t_read);
    latency.add(took, n);
    busy += took;
    if (!o.checkpoint.empty() && o.checkpoint_every > 0 && since_checkpoint >= o.checkpoint_every && !strict_error) {
      pool.save(o.checkpoint);
      ++checkpoints;
      since_checkpoint = 0;
    }
  }
  if (!strict_error) {
    if (!o.no_flush)
      for (uint64_t id : names.ids()) pool.flush(id, sink);
    write_out();
    if (!o.checkpoint.empty()) pool.save(o.checkpoint), ++checkpoints;
  }
  const double wall = seconds_since(reading);

  // Summary (stderr; docs/streaming.md, "rnnad stream").
  const int sig = StopSignals::stop_signal();
  StreamCounters total;
  for (uint64_t id : names.ids()) {
    const StreamCounters c = pool.counters(id);
    total.model_non_finite += c.model_non_finite;
    total.calibration_failures += c.calibration_failures;
  }
  int64_t rejected_lines = 0;
  for (const auto& r : rejected) rejected_lines += r.second;
  auto list = [](const std::vector<std::pair<std::string, int64_t>>& l) {
    std::string s;
    for (const auto& [key, n] : l) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + key;
    return s;
  };
  std::string summary = std::string("rnnad: stream summary (") +
                        (strict_error ? "stopped at a rejected line: --strict"
                                      : sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "end of input") + ")\n";
  summary += "input:      " + reader.name() + ": " + count(lines, "line") + ", " + count(headers, "header") + ", " +
             count(samples, "sample") + " to the pool, " + count(rejected_lines, "line") + " rejected\n";
  summary += "streams:    " + std::to_string(names.ids().size()) + " seen (" + std::to_string(added) + " new, " +
             std::to_string(restored) + " restored from a checkpoint); " + std::to_string(pool.size()) + " in the pool\n";
  summary += "model:      " + o.model + ": " + config_summary(mc) + "\n";
  summary += "threshold:  " + threshold.description + "\n";
  summary += "rows:       " + count(verdicts[0] + verdicts[1] + verdicts[2] + verdicts[3], "final row") + ": " +
             std::to_string(verdicts[0]) + " without a score, " + std::to_string(verdicts[1]) + " calibrating, " +
             std::to_string(verdicts[2] + verdicts[3]) + " judged, " + count(verdicts[3], "alarm") +
             (o.no_flush ? " (pending rows not flushed: --no-flush)" : "") + "\n";
  if (!rejected.empty()) summary += "rejected:   " + list(rejected) + "\n";
  if (!repaired.empty()) summary += "repaired:   " + list(repaired) + "\n";
  if (total.model_non_finite + total.calibration_failures > 0)
    summary += "problems:   " + count(total.model_non_finite, "row") + " with a non-finite model output, " +
               count(total.calibration_failures, "failed calibration") + " (counted since each stream was added)\n";
  if (latency.batches() == 0) summary += "latency:    none (no sample reached the pool)\n";
  else
    summary += "latency:    p50 " + fixed(1e3 * latency.quantile(0.5)) + " ms, p99 " + fixed(1e3 * latency.quantile(0.99)) +
               " ms per sample (from the read() that completed its line to its rows written; " +
               std::to_string(latency.batches()) + (latency.batches() == 1 ? " batch" : " batches") + ")\n";
  summary += "throughput: " + fixed(static_cast<double>(samples) / std::max(wall, 1e-9), 0) + " samples/s (" + count(samples, "sample") + " in " +
             fixed(wall, 2) + " s); busy " + fixed(samples > 0 ? 1e6 * busy / static_cast<double>(samples) : 0.0, 1) +
             " us per sample (parse, push_batch, output); " + fixed(seconds_since(started), 1) + " s in all\n";
  if (!o.checkpoint.empty())
    summary += "checkpoint: " + o.checkpoint + " (" + (checkpoints > 0 ? "saved " + count(checkpoints, "time") : "not saved") + ")\n";
  std::fputs(summary.c_str(), stderr);
  if (strict_error) throw Error(*strict_error + " (--strict)");
  return kExitOk;
}

}  // namespace

Command add_stream(CLI::App& parent) {
  auto o = std::make_shared<StreamOptions>();
  CLI::App* app = parent.add_subcommand("stream", "Score live lines stream_id,timestamp,v1,...,vF from a file or stdin "
                                                  "with one state per stream; alarms as JSON lines on stdout");
  app->add_option("--model,-m", o->model, "Model file (.safetensors) with scoring settings")->required();
  app->add_option("--input,-i", o->input, "Input lines: a file, or - for stdin")->capture_default_str();
  app->add_option("--device,-d", o->device, "cpu, auto, cuda or cuda:N")->check(device_choice())->capture_default_str();
  app->add_option("--shards", o->shards, "StreamPool shards (each its own Engine)")
      ->check(CLI::Range(int64_t{1}, int64_t{1024}))
      ->capture_default_str();
  app->add_option("--max-batch", o->max_batch, "Streams per Engine call within a shard")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  app->add_option("--max-streams", o->max_streams, "Refuse new streams beyond this many (0 = no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_flag("--all-rows", o->all_rows, "Print every final row, not only alarms");
  app->add_option("--top-features", o->top_features, "Contributing features listed per row")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_flag("--strict", o->strict, "Stop with exit 3 at the first rejected line (default: report, count, go on)");
  app->add_flag("--no-flush", o->no_flush, "At the end, keep pooled rows pending (for a checkpoint the next run continues)");
  auto* ckpt = app->add_option("--checkpoint", o->checkpoint, "Save all stream state here (atomically) at the end");
  app->add_option("--checkpoint-every", o->checkpoint_every, "Also save after every N samples")
      ->check(CLI::PositiveNumber)
      ->needs(ckpt);
  app->add_option("--restore", o->restore, "Start from this checkpoint (same model and threshold settings)");
  const std::string g = "Input policy";
  app->add_option("--period", o->period, "Expected step between a stream's timestamps (timestamp units; 0 = no gap detection)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group(g);
  app->add_option("--gap", o->gap, "A step above gap-factor x period: restart (end the segment) or bridge")
      ->check(one_of({"restart", "bridge"}))
      ->capture_default_str()
      ->group(g);
  app->add_option("--gap-factor", o->gap_factor, "A step above this many periods is a gap (> 1)")
      ->check(finite_number())
      ->check([](const std::string& s) { return std::strtod(s.c_str(), nullptr) > 1 ? "" : "'" + s + "' is not above 1"; })
      ->capture_default_str()
      ->group(g);
  app->add_option("--missing", o->missing, "Missing (NaN) values: drop the sample, or ffill from the stream's last one")
      ->check(one_of({"drop", "ffill"}))
      ->capture_default_str()
      ->group(g);
  o->threshold.add_to(*app);
  return {app, [o] { return run_stream(*o); }};
}

}  // namespace rnnad::cli
