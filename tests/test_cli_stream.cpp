// `rnnad stream` end to end (docs/streaming.md, "rnnad stream"): the CLI binary named by
// RNNAD_CLI (set by CTest) against the library's StreamPool fed the same samples (every row, its
// score, threshold and verdict), against `rnnad detect` on the same series (field case F25:
// a stateful forecaster and a pooled reconstruction model), bad lines, stream names, stdin and
// a pipe answered line by line, SIGTERM mid-stream, checkpoint and restore, exit codes.
// Models: the golden scoring models (tests/golden/scoring, validated against PyTorch).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "model_builder.h"
#include "rnnad/labels.h"
#include "rnnad/scoring.h"
#include "rnnad/stream_pool.h"
#include "rnnad/threshold_static.h"
#include "scratch_files.h"
#include "stream_recorder.h"

namespace fs = std::filesystem;
using nlohmann::json;
using rnnad::test::scratch;
using rnnad::test::write_file;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') FAIL(name << " is not set (CTest sets it)");
  return v;
}

fs::path golden(const std::string& name) { return fs::path(env("RNNAD_GOLDEN_DIR")) / "scoring" / (name + ".safetensors"); }

struct Run {
  int code = -1;  ///< exit status; 128 + N when killed by signal N
  std::string out, err;
};

/// `rnnad <args>` as a child process with pipes on stdin, stdout and stderr, pumped without
/// deadlock (input is written as the child reads it while its output is drained).
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    ::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test on write
    int in[2], to_out[2], to_err[2];
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(to_out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(to_err, O_CLOEXEC) == 0);
    const std::string cli = env("RNNAD_CLI");
    std::vector<std::string> all = {cli};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    m_pid = ::fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      ::dup2(in[0], 0), ::dup2(to_out[1], 1), ::dup2(to_err[1], 2);
      ::execv(cli.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(in[0]), ::close(to_out[1]), ::close(to_err[1]);
    m_in = in[1], m_out = to_out[0], m_err = to_err[0];
  }
  ~Child() {
    close_fd(m_in), close_fd(m_out), close_fd(m_err);
    if (m_pid > 0) ::kill(m_pid, SIGKILL), ::waitpid(m_pid, nullptr, 0);
  }
  /// Queues `text` for the child's stdin (written while pumping).
  void write(const std::string& text) { m_pending += text; }
  void close_stdin() { m_close_in = true; }
  void signal(int sig) { REQUIRE(::kill(m_pid, sig) == 0); }
  /// Pumps until stdout holds at least `lines` lines; false after `seconds`.
  bool wait_lines(std::size_t lines, double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::count(out.begin(), out.end(), '\n') < static_cast<std::ptrdiff_t>(lines)) {
      if (std::chrono::steady_clock::now() > end || (m_out < 0 && m_err < 0)) return false;
      pump(50);
    }
    return true;
  }
  /// Closes stdin (unless `keep_stdin`), pumps until both outputs end and waits for the exit.
  Run finish(bool keep_stdin = false) {
    if (!keep_stdin) m_close_in = true;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(300);
    while ((m_out >= 0 || m_err >= 0) && std::chrono::steady_clock::now() < end) pump(100);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
    Run r{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out, err};
    UNSCOPED_INFO("rnnad exit " << r.code << "\nstderr:\n" << r.err);
    return r;
  }
  std::string out, err;

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void pump(int timeout_ms) {
    if (m_in >= 0 && m_pending.empty() && m_close_in) close_fd(m_in);
    pollfd p[3] = {{m_out, POLLIN, 0}, {m_err, POLLIN, 0}, {m_pending.empty() ? -1 : m_in, POLLOUT, 0}};
    if (::poll(p, 3, timeout_ms) <= 0) return;
    char buf[65536];
    for (int k = 0; k < 2; ++k) {
      if (p[k].fd < 0 || p[k].revents == 0) continue;
      const ssize_t n = ::read(p[k].fd, buf, sizeof buf);
      if (n > 0) (k == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
      else close_fd(k == 0 ? m_out : m_err);
    }
    if (p[2].fd >= 0 && p[2].revents != 0) {
      const ssize_t n = ::write(m_in, m_pending.data(), std::min<std::size_t>(m_pending.size(), 65536));
      if (n > 0) m_pending.erase(0, static_cast<std::size_t>(n));
      else m_pending.clear(), close_fd(m_in);  // the child closed its stdin
    }
  }
  pid_t m_pid = -1;
  int m_in = -1, m_out = -1, m_err = -1;
  std::string m_pending;
  bool m_close_in = false;
};

/// Runs `rnnad <args>` with `input` on stdin.
Run run_cli(const std::vector<std::string>& args, const std::string& input = "") {
  Child c(args);
  c.write(input);
  return c.finish();
}

/// A series of one stream, rounded to float as rnnad reads values. Row-major [rows × F].
struct Feed {
  std::string name;
  std::vector<double> values;
};

Feed feed(const std::string& name, int64_t rows, int64_t F, double offset) {
  Feed f{name, rnnad::test::f25_series(rows, F, offset)};
  for (double& v : f.values) v = static_cast<double>(static_cast<float>(v));
  return f;
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);  // a float's exact round trip
  return buf;
}

/// Lines `name,timestamp,v...` of every feed, tick by tick (round-robin), ticks [from, to);
/// timestamp 1000 + 60 t, or date-times from 2024-01-01 00:00:00 when `dates`.
std::string stream_lines(const std::vector<Feed>& feeds, int64_t F, int64_t from, int64_t to, bool dates = false) {
  std::string s;
  for (int64_t t = from; t < to; ++t)
    for (const Feed& f : feeds) {
      s += f.name + "," + (dates ? rnnad::format_timestamp(1704067200 + 60 * t) : std::to_string(1000 + 60 * t));
      for (int64_t k = 0; k < F; ++k) s += "," + number(f.values[static_cast<std::size_t>(t * F + k)]);
      s += "\n";
    }
  return s;
}

/// The JSON rows of a run's stdout, per stream name.
std::map<std::string, std::vector<json>> rows_by_stream(const std::string& out) {
  std::map<std::string, std::vector<json>> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    rows[j["stream"].get<std::string>()].push_back(j);
  }
  return rows;
}

double score_of(const json& j) { return j["score"].is_null() ? std::nan("") : j["score"].get<double>(); }

const char* verdict_name(rnnad::RowVerdict v) {
  switch (v) {
    case rnnad::RowVerdict::NoScore: return "no_score";
    case rnnad::RowVerdict::Calibrating: return "calibrating";
    case rnnad::RowVerdict::Normal: return "normal";
    case rnnad::RowVerdict::Anomaly: return "anomaly";
  }
  return "?";
}

/// Checks a stream's JSON rows against the library's rows: the same rows in order, timestamps,
/// verdicts and lags; scores and thresholds within tolerance::kScore (the Engine's batch sizes
/// differ: float32 rounding); the top feature is the largest contribution.
void check_rows_equal_library(const std::vector<json>& got, const std::vector<rnnad::test::RecordedRow>& want,
                              const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  std::vector<double> scores;
  for (const auto& w : want) scores.push_back(w.score);
  const double median = rnnad::test::score_scale(scores);
  int bad = 0;
  for (std::size_t r = 0; r < want.size() && bad < 5; ++r) {
    const json& g = got[r];
    const auto& w = want[r];
    INFO("row " << r << ": " << g.dump() << " vs library score " << w.score << " threshold " << w.threshold);
    const bool ok = g["row"] == w.row && g["timestamp"] == w.timestamp && g["verdict"] == verdict_name(w.verdict) &&
                    g["lag"] == w.lag && rnnad::test::same_score(score_of(g), w.score, median) &&
                    (g["threshold"].is_null() ? std::isnan(w.threshold)
                                              : rnnad::test::same_score(g["threshold"].get<double>(), w.threshold, median));
    CHECK(ok);
    if (!std::isnan(w.score) && !w.contributions.empty()) {  // the top feature: the largest contribution
      REQUIRE(!g["top_features"].empty());
      const double top = *std::max_element(w.contributions.begin(), w.contributions.end());
      CHECK(rnnad::test::same_score(g["top_features"][0]["contribution"].get<double>(), top, median));
    }
    bad += ok ? 0 : 1;
  }
}

/// The library's rows for the same feeds (one push per sample in the file's order, then a flush
/// per stream in first-sight order), with ids as rnnad stream gives them (decimal names are their
/// own id; the tests use such names, so ids need no hashing here).
std::map<std::string, std::vector<rnnad::test::RecordedRow>> library_rows(const fs::path& model_path,
                                                                          const rnnad::StreamPoolOptions& o,
                                                                          const std::vector<Feed>& feeds, int64_t rows) {
  auto model = rnnad::Model::load(model_path);
  const int64_t F = model->config().input_size();
  rnnad::StreamPool pool(model, o);
  for (const Feed& f : feeds) pool.add_stream(std::stoull(f.name));
  rnnad::test::Recorder rec;
  for (int64_t t = 0; t < rows; ++t)
    for (const Feed& f : feeds)
      REQUIRE(rnnad::accepted(pool.push(std::stoull(f.name), 1000 + 60 * t,
                                        {f.values.data() + t * F, static_cast<std::size_t>(F)}, rec)));
  for (const Feed& f : feeds) pool.flush(std::stoull(f.name), rec);
  std::map<std::string, std::vector<rnnad::test::RecordedRow>> out;
  for (const Feed& f : feeds) out[f.name] = rec.rows[std::stoull(f.name)];
  return out;
}

/// The batch Scorer's 90th score percentile over a feed (a static threshold that flags rows).
double percentile90(const fs::path& model_path, const Feed& f, int64_t rows) {
  rnnad::Scorer scorer(rnnad::Model::load(model_path));
  return rnnad::score_percentile(scorer.score(f.values.data(), rows).scores, 90.0);
}

std::string shortest(double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

TEST_CASE("stream: every row equals the library StreamPool's, static and SPOT thresholds", "[cli][e2e][stream]") {
  constexpr int64_t kRows = 300;
  int calibrated_alarms = 0;
  for (const char* name : {"recon_absolute_mean", "preds_absolute", "predw_absolute_s2"}) {
    const fs::path model = golden(name);
    const int64_t F = rnnad::Model::load(model)->config().input_size();
    const std::vector<Feed> feeds = {feed("11", kRows, F, 0.0), feed("22", kRows, F, 0.7), feed("33", kRows, F, -0.4)};
    const fs::path input = write_file(std::string(name) + ".lines", stream_lines(feeds, F, 0, kRows));

    rnnad::StreamPoolOptions fixed;
    fixed.threshold.method = rnnad::ThresholdMethod::Static;
    fixed.threshold.value = percentile90(model, feeds[0], kRows);
    const Run r = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows", "--threshold", "static",
                           "--threshold-value", shortest(*fixed.threshold.value), "--max-batch", "2"});
    REQUIRE(r.code == 0);
    auto got = rows_by_stream(r.out);
    auto want = library_rows(model, fixed, feeds, kRows);
    int alarms = 0;
    for (const Feed& f : feeds) {
      check_rows_equal_library(got[f.name], want[f.name], std::string(name) + " static, stream " + f.name);
      for (const json& j : got[f.name]) alarms += j["verdict"] == "anomaly";
    }
    CHECK(alarms > 0);  // the comparison covers alarms
    CHECK(r.err.find("rows:       900 final rows") != std::string::npos);

    // SPOT and DSPOT, alarms only (the default output): the same alarms as the library's.
    for (const char* method : {"spot", "dspot"}) {
      rnnad::StreamPoolOptions spot;
      spot.threshold.method = std::string(method) == "spot" ? rnnad::ThresholdMethod::Spot : rnnad::ThresholdMethod::Dspot;
      spot.threshold.spot.level = 0.9;
      spot.threshold.spot.q = 1e-2;
      spot.threshold.spot.depth = 10;
      spot.threshold.calibration_rows = 120;
      const Run s = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--threshold", method, "--spot-level",
                             "0.9", "--spot-q", "0.01", "--calibration-rows", "120"});
      REQUIRE(s.code == 0);
      CHECK(s.err.find("calibrated per stream on its first 120 scored rows (--calibration-rows)") != std::string::npos);
      got = rows_by_stream(s.out);
      want = library_rows(model, spot, feeds, kRows);
      for (const Feed& f : feeds) {
        std::vector<rnnad::test::RecordedRow> alarms_only;
        for (const auto& w : want[f.name])
          if (w.verdict == rnnad::RowVerdict::Anomaly) alarms_only.push_back(w);
        check_rows_equal_library(got[f.name], alarms_only, std::string(name) + " " + method + ", stream " + f.name);
        calibrated_alarms += static_cast<int>(alarms_only.size());
      }
    }
  }
  CHECK(calibrated_alarms > 0);  // SPOT/DSPOT flag rows of these series, so the comparison means something
}

TEST_CASE("F25: stream scores equal batch detect's, stateful forecaster and pooled reconstruction", "[cli][e2e][stream][field]") {
  constexpr int64_t kRows = 300;
  for (const char* name : {"preds_absolute", "recon_absolute_mean"}) {
    const fs::path model = golden(name);
    const int64_t F = rnnad::Model::load(model)->config().input_size();
    const std::vector<Feed> feeds = {feed("s1", kRows, F, 0.0), feed("s2", kRows, F, 0.5)};
    std::string csv = "timestamp";
    for (int64_t k = 0; k < F; ++k) csv += ",f" + std::to_string(k);
    csv += "\n";
    for (int64_t t = 0; t < kRows; ++t) {
      csv += rnnad::format_timestamp(1704067200 + 60 * t);
      for (int64_t k = 0; k < F; ++k) csv += "," + number(feeds[0].values[static_cast<std::size_t>(t * F + k)]);
      csv += "\n";
    }
    const fs::path series = write_file(std::string(name) + "_s1.csv", csv);
    const std::string value = shortest(percentile90(model, feeds[0], kRows));
    const fs::path out = scratch() / (std::string(name) + "_detect.csv");
    const Run d = run_cli({"detect", "-m", model.string(), "-i", series.string(), "-o", out.string(), "--device", "cpu",
                           "--threshold-value", value});
    REQUIRE(d.code == 0);
    const fs::path lines = write_file(std::string(name) + "_f25.lines", stream_lines(feeds, F, 0, kRows, true));
    const Run s = run_cli({"stream", "-m", model.string(), "-i", lines.string(), "--all-rows", "--threshold-value", value});
    REQUIRE(s.code == 0);
    const std::vector<json> got = rows_by_stream(s.out)["s1"];

    std::ifstream in(out);
    std::string row;
    auto split = [](const std::string& line) {
      std::vector<std::string> cells;
      std::size_t a = 0;
      for (std::size_t b; (b = line.find(',', a)) != std::string::npos; a = b + 1) cells.push_back(line.substr(a, b - a));
      cells.push_back(line.substr(a));
      return cells;
    };
    std::getline(in, row);  // header: timestamp,f0,...,score,threshold,is_anomaly,...
    const std::vector<std::string> header = split(row);
    const auto column = [&](const std::string& c) {
      const auto it = std::find(header.begin(), header.end(), c);
      REQUIRE(it != header.end());
      return static_cast<std::size_t>(it - header.begin());
    };
    const std::size_t score_column = column("score"), flag_column = column("is_anomaly");
    std::vector<double> scores;
    std::vector<std::string> flags;
    while (std::getline(in, row)) {
      const std::vector<std::string> cells = split(row);
      REQUIRE(cells.size() == header.size());
      scores.push_back(cells[score_column].empty() ? std::nan("") : std::stod(cells[score_column]));
      flags.push_back(cells[flag_column]);
    }
    INFO(name);
    REQUIRE(got.size() == scores.size());
    const double median = rnnad::test::score_scale(scores);
    int bad = 0, alarms = 0;
    for (std::size_t r = 0; r < scores.size() && bad < 5; ++r) {
      INFO("row " << r << ": stream " << got[r].dump() << ", detect " << scores[r] << " flag " << flags[r]);
      const bool ok = rnnad::test::same_score(score_of(got[r]), scores[r], median) &&
                      got[r]["timestamp"] == rnnad::format_timestamp(1704067200 + 60 * static_cast<int64_t>(r)) &&
                      (got[r]["verdict"] == "anomaly") == (flags[r] == "1");
      CHECK(ok);
      bad += ok ? 0 : 1;
      alarms += flags[r] == "1";
    }
    CHECK(alarms > 0);
  }
}

TEST_CASE("stream: bad lines are reported with their line and counted; fatal only with --strict", "[cli][e2e][stream]") {
  const fs::path model = golden("preds_absolute");
  const std::string bad =
      "stream,timestamp,f0,f1,f2\n"  // 1: header
      "a,100,1,2,3\n"                // 2
      "a,160,1,2\n"                  // 3: wrong_features
      "a,160,1,abc,3\n"              // 4: bad_value
      "a,2024-13-01 00:00:00,1,2,3\n"  // 5: bad_timestamp
      " ,160,1,2,3\n"                // 6: bad_stream_id
      "a,160,1,2,3\n"                // 7
      "a,160,1,2,3\n"                // 8: duplicate
      "a,100,1,2,3\n"                // 9: out_of_order
      "a,220,nan,2,3\n"              // 10: non_finite (--missing drop)
      "a,220,inf,2,3\n"              // 11: non_finite
      "\n"                           // 12: blank
      "a,220,1.5,2,3\r\n"            // 13: CRLF
      "b,2024-01-01 00:00:00,1,2,3\n"  // 14: bad_timestamp (the run's timestamps are integers)
      "a,280,1,2,3";                 // 15: no final newline
  const fs::path input = write_file("bad.lines", bad);
  const Run r = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows"});
  REQUIRE(r.code == 0);
  const std::string f = input.string();
  for (const std::string& w :
       {f + ":3: 4 fields, expected 5 (stream_id, timestamp and the model's 3 values) (rejected: wrong_features)",
        f + ":4: field 4: 'abc' is not a number (rejected: bad_value)", f + ":5: field 2: bad timestamp '2024-13-01 00:00:00'",
        f + ":6: field 1: empty stream id (rejected: bad_stream_id)",
        f + ":8: stream 'a': timestamp 160 repeats the last accepted one (the first is kept) (rejected: duplicate)",
        f + ":9: stream 'a': timestamp 100 is before the last accepted one (rejected: out_of_order)",
        f + ":10: stream 'a': a value is infinite, or missing with --missing drop (rejected: non_finite)",
        f + ":11: stream 'a': a value is infinite", f + ":14: field 2: '2024-01-01 00:00:00' is a date-time but earlier timestamps are integers"})
    CHECK(r.err.find("rnnad: warning: " + w) != std::string::npos);
  CHECK(r.err.find("input:      " + f + ": 15 lines, 1 header, 8 samples to the pool, 9 lines rejected") != std::string::npos);
  for (const char* c : {"1 wrong_features", "1 bad_value", "2 bad_timestamp", "1 bad_stream_id", "1 duplicate", "1 out_of_order",
                        "2 non_finite"})
    CHECK(r.err.find(c) != std::string::npos);
  // A twin input of the good lines alone gives the same rows: bad lines never touch a stream.
  const fs::path twin = write_file("twin.lines", "a,100,1,2,3\na,160,1,2,3\na,220,1.5,2,3\na,280,1,2,3\n");
  const Run t = run_cli({"stream", "-m", model.string(), "-i", twin.string(), "--all-rows"});
  REQUIRE(t.code == 0);
  CHECK(rows_by_stream(r.out)["a"].size() == 4);
  CHECK(r.out == t.out);

  const Run s = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--strict"});
  CHECK(s.code == 3);
  CHECK(s.err.find("rnnad: stream summary (stopped at a rejected line: --strict)") != std::string::npos);
  CHECK(s.err.substr(s.err.rfind("rnnad: error: ")) ==
        "rnnad: error: " + f + ":3: 4 fields, expected 5 (stream_id, timestamp and the model's 3 values) (--strict)\n");
  CHECK(s.err.find(f + ":4:") == std::string::npos);  // nothing after the first rejected line
}

TEST_CASE("stream: streams are added on first sight and printed back by name; --max-streams", "[cli][e2e][stream]") {
  const fs::path model = golden("preds_absolute");
  const std::vector<std::string> names = {"web-01.example.com", "with space", "quo\"te\\", "n\xC3\xBCn", "42", "042"};
  std::string lines;
  for (int t = 0; t < 2; ++t)
    for (const std::string& n : names) lines += "  " + n + "\t," + std::to_string(100 + t) + ",1,2,3\n";
  const fs::path input = write_file("names.lines", lines);
  const Run r = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows"});
  REQUIRE(r.code == 0);
  const auto rows = rows_by_stream(r.out);
  CHECK(rows.size() == names.size());
  for (const std::string& n : names) {
    INFO(n);
    REQUIRE(rows.count(n) == 1);
    CHECK(rows.at(n).size() == 2);
    CHECK(rows.at(n)[1]["row"] == 1);
  }
  CHECK(r.err.find("streams:    6 seen (6 new, 0 restored from a checkpoint); 6 in the pool") != std::string::npos);

  const Run m = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows", "--max-streams", "2"});
  REQUIRE(m.code == 0);
  CHECK(rows_by_stream(m.out).size() == 2);
  CHECK(m.err.find(input.string() + ":3: stream 'quo\"te\\': a new stream beyond --max-streams 2 (rejected: unknown_stream)") !=
        std::string::npos);
  CHECK(m.err.find("8 unknown_stream") != std::string::npos);
}

TEST_CASE("stream: stdin equals a file, and a line on a pipe is answered before more input", "[cli][e2e][stream]") {
  const fs::path model = golden("preds_absolute");
  const std::vector<Feed> feeds = {feed("1", 50, 3, 0.0), feed("2", 50, 3, 0.3)};
  const std::string text = stream_lines(feeds, 3, 0, 50);
  const fs::path input = write_file("pipe.lines", text);
  const Run file = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows"});
  const Run in = run_cli({"stream", "-m", model.string(), "--all-rows"}, text);  // --input defaults to -
  REQUIRE(file.code == 0);
  REQUIRE(in.code == 0);
  CHECK(in.out == file.out);
  CHECK(std::count(in.out.begin(), in.out.end(), '\n') == 100);
  CHECK(in.err.find("input:      <stdin>: 100 lines") != std::string::npos);

  // A forecaster's row is final with its sample: each line is answered while stdin stays open.
  Child c({"stream", "-m", model.string(), "-i", "-", "--all-rows"});
  c.write("1,1000,1,2,3\n");
  REQUIRE(c.wait_lines(1, 60));
  c.write("1,1060,1.5,2,3\n");
  REQUIRE(c.wait_lines(2, 60));
  const Run r = c.finish();
  CHECK(r.code == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);
  CHECK(r.err.find("latency:    p50 ") != std::string::npos);
  CHECK(r.err.find("2 batches") != std::string::npos);  // one read per line: nothing waited for more input
}

TEST_CASE("stream: SIGTERM mid-stream finishes the rows, saves the checkpoint and prints the summary", "[cli][e2e][stream]") {
  const fs::path model = golden("recon_absolute_mean");  // window 8: rows become final 7 samples late
  const fs::path ckpt = scratch() / "sigterm.ckpt";
  Child c({"stream", "-m", model.string(), "--all-rows", "--checkpoint", ckpt.string()});
  c.write(stream_lines({feed("5", 20, 3, 0.0)}, 3, 0, 20));
  REQUIRE(c.wait_lines(13, 60));  // rows 0-12 are final once sample 19 was read
  c.signal(SIGTERM);
  const Run r = c.finish(/*keep_stdin=*/true);
  CHECK(r.code == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 20);  // the pending rows 13-19 were flushed
  CHECK(r.err.find("rnnad: stream summary (SIGTERM)") != std::string::npos);
  CHECK(r.err.find("input:      <stdin>: 20 lines, 0 headers, 20 samples to the pool") != std::string::npos);
  CHECK(r.err.find("checkpoint: " + ckpt.string() + " (saved 1 time)") != std::string::npos);
  CHECK(fs::exists(ckpt));
}

TEST_CASE("stream: a checkpoint and --restore continue as without the restart", "[cli][e2e][stream]") {
  constexpr int64_t kRows = 300;  // F25's step at t = 250 lies in the second run
  const fs::path model = golden("recon_absolute_mean");
  const std::vector<Feed> feeds = {feed("7", kRows, 3, 0.0), feed("8", kRows, 3, 0.7), feed("9", kRows, 3, -0.4)};
  const std::vector<std::string> spot = {"--threshold", "dspot", "--spot-level", "0.9", "--spot-q", "0.01", "--calibration-rows", "120", "--all-rows"};
  auto args = [&](const fs::path& in, std::vector<std::string> extra) {
    std::vector<std::string> a = {"stream", "-m", model.string(), "-i", in.string()};
    a.insert(a.end(), spot.begin(), spot.end());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const Run whole = run_cli(args(write_file("whole.lines", stream_lines(feeds, 3, 0, kRows)), {}));
  REQUIRE(whole.code == 0);
  const fs::path ckpt = scratch() / "pool.ckpt";
  const Run first = run_cli(args(write_file("first.lines", stream_lines(feeds, 3, 0, 150)),
                                 {"--no-flush", "--checkpoint", ckpt.string(), "--checkpoint-every", "50"}));
  REQUIRE(first.code == 0);
  // 450 samples arrive in one read (one batch): one save after it, one at the end.
  CHECK(first.err.find("(saved 2 times)") != std::string::npos);
  const Run second = run_cli(args(write_file("second.lines", stream_lines(feeds, 3, 150, kRows)),
                                  {"--restore", ckpt.string(), "--checkpoint", ckpt.string()}));
  REQUIRE(second.code == 0);
  CHECK(second.err.find("streams:    3 seen (0 new, 3 restored from a checkpoint)") != std::string::npos);
  auto a = rows_by_stream(whole.out), b = rows_by_stream(first.out), c = rows_by_stream(second.out);
  int alarms = 0;
  for (const Feed& f : feeds) {
    INFO("stream " << f.name);
    std::vector<json> joined = b[f.name];
    joined.insert(joined.end(), c[f.name].begin(), c[f.name].end());
    REQUIRE(joined.size() == a[f.name].size());
    REQUIRE(joined.size() == static_cast<std::size_t>(kRows));
    for (std::size_t r = 0; r < joined.size(); ++r) {
      INFO("row " << r << ": " << joined[r].dump() << " vs " << a[f.name][r].dump());
      CHECK(joined[r]["row"] == a[f.name][r]["row"]);
      CHECK(joined[r]["verdict"] == a[f.name][r]["verdict"]);
      CHECK(rnnad::test::same_score(score_of(joined[r]), score_of(a[f.name][r]), 1.0));
      alarms += joined[r]["verdict"] == "anomaly";
    }
  }
  CHECK(alarms > 0);  // DSPOT's state crosses the restart: its alarms after it are compared too
}

TEST_CASE("stream: --period, --gap and --missing reach the pool's input policy", "[cli][e2e][stream]") {
  const fs::path model = golden("preds_absolute");  // stateful: a row after a restart has no prediction
  const fs::path input = write_file("policy.lines", "a,0,1,2,3\na,60,1,2,3\na,120,,2,3\na,1000,1,2,3\n");
  auto verdicts = [](const Run& r) {
    std::string v;
    const auto rows = rows_by_stream(r.out);
    if (rows.count("a") == 1)
      for (const json& j : rows.at("a")) v += j["verdict"].get<std::string>() + " ";
    return v;
  };
  const Run drop = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows", "--threshold-value", "1e9"});
  REQUIRE(drop.code == 0);
  CHECK(verdicts(drop) == "no_score normal normal ");  // the empty value drops line 3; no gap detection
  CHECK(drop.err.find("1 non_finite") != std::string::npos);
  const Run restart = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows", "--threshold-value", "1e9",
                               "--period", "60", "--missing", "ffill"});
  REQUIRE(restart.code == 0);
  CHECK(verdicts(restart) == "no_score normal normal no_score ");  // filled line 3; 880 > 3 x 60 restarts
  CHECK(restart.err.find("repaired:   1 filled, 1 after_gap") != std::string::npos);
  const Run bridge = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows", "--threshold-value", "1e9",
                              "--period", "60", "--missing", "ffill", "--gap", "bridge"});
  REQUIRE(bridge.code == 0);
  CHECK(verdicts(bridge) == "no_score normal normal normal ");
  const Run wide = run_cli({"stream", "-m", model.string(), "-i", input.string(), "--all-rows", "--threshold-value", "1e9",
                            "--period", "60", "--missing", "ffill", "--gap-factor", "20"});
  REQUIRE(wide.code == 0);
  CHECK(verdicts(wide) == "no_score normal normal normal ");  // 880 <= 20 x 60: no gap
}

TEST_CASE("stream: exit codes and one-line errors", "[cli][e2e][stream]") {
  const std::string model = golden("preds_absolute").string();
  const fs::path input = write_file("codes.lines", "a,1,1,2,3\n");
  CHECK(run_cli({"stream", "-i", input.string()}).code == 2);                                      // --model missing
  CHECK(run_cli({"stream", "-m", model, "-i", input.string(), "--gap", "skip"}).code == 2);          // not a choice
  CHECK(run_cli({"stream", "-m", model, "-i", input.string(), "--checkpoint-every", "5"}).code == 2);  // needs --checkpoint
  CHECK(run_cli({"stream", "-m", model, "-i", input.string(), "--gap-factor", "1"}).code == 2);       // must exceed 1
  CHECK(run_cli({"stream", "-m", model, "-i", input.string(), "--device", "gpu"}).code == 2);         // not a device
  const Run help = run_cli({"stream", "--help"});
  CHECK(help.code == 0);
  for (const char* opt : {"--input", "--all-rows", "--strict", "--checkpoint", "--restore", "--period", "--missing", "--spot-q",
                          "--shards", "--max-batch"})
    CHECK(help.out.find(opt) != std::string::npos);
  const Run ndt = run_cli({"stream", "-m", model, "-i", input.string(), "--threshold", "ndt"});
  CHECK(ndt.code == 3);
  CHECK(ndt.err.find("batch-only") != std::string::npos);
  const Run missing = run_cli({"stream", "-m", model, "-i", "/no/such.lines"});
  CHECK(missing.code == 3);
  CHECK(missing.err == "rnnad: error: /no/such.lines: cannot open: No such file or directory\n");
  const Run no_model = run_cli({"stream", "-m", "/no/such.safetensors", "-i", input.string()});
  CHECK(no_model.code == 3);
  const Run onto_model = run_cli({"stream", "-m", model, "-i", input.string(), "--checkpoint", model});
  CHECK(onto_model.code == 3);
  CHECK(onto_model.err.find("is also an input of this run") != std::string::npos);
  // A checkpoint in a missing directory fails before any input is read (not after the run).
  const Run no_dir = run_cli({"stream", "-m", model, "-i", input.string(), "--checkpoint", "/nonexistent-rnnad-dir/x.ckpt"});
  CHECK(no_dir.code == 3);
  CHECK(no_dir.out.empty());
  CHECK(no_dir.err.find("directory '/nonexistent-rnnad-dir' does not exist") != std::string::npos);
  const Run bad_restore = run_cli({"stream", "-m", model, "-i", input.string(), "--restore", input.string()});
  CHECK(bad_restore.code == 3);
  CHECK(bad_restore.err.find(input.string()) != std::string::npos);
  // A model file without a threshold: static mean + k std needs calibration rows, never 1 by default.
  const std::vector<unsigned char> bytes = rnnad::test::constant_model_file({0.42f}, R"(, "scoring": {"method": "absolute"})");
  const fs::path bare = write_file("bare.safetensors", std::string(bytes.begin(), bytes.end()));
  const fs::path one = write_file("one.lines", "a,1,1\n");
  const Run no_value = run_cli({"stream", "-m", bare.string(), "-i", one.string()});
  CHECK(no_value.code == 3);
  CHECK(no_value.err.find("needs --calibration-rows") != std::string::npos);
  CHECK(run_cli({"stream", "-m", bare.string(), "-i", one.string(), "--calibration-rows", "50"}).code == 0);
}
