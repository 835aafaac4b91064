// `rnnad detect` and `rnnad eval` end to end (docs/cli.md): the bundled NAB and SMD models on
// their bundled real data, every threshold method, metrics against labels (and eval reproducing
// them), atomic outputs on failure, field case F29, 10^5 rows, exit codes. Runs the CLI binary
// named by RNNAD_CLI (set by CTest).
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
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
#include "rnnad/device.h"
#include "rnnad/labels.h"
#include "scratch_files.h"

namespace fs = std::filesystem;
using rnnad::test::scratch;
using rnnad::test::write_file;

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') FAIL(name << " is not set (CTest sets it)");
  return v;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// Runs `rnnad <args>` (run_cli) with stdout and stderr captured.
Run run_cli(const std::vector<std::string>& args) {
  std::string cmd = quoted(env("RNNAD_CLI"));
  for (const std::string& a : args) cmd += " " + quoted(a);
  const fs::path out = scratch() / "stdout.txt", err = scratch() / "stderr.txt";
  const int status = std::system((cmd + " >" + quoted(out.string()) + " 2>" + quoted(err.string())).c_str());
  Run r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  INFO("rnnad " << cmd << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  return r;
}

fs::path models() { return env("RNNAD_MODELS_DIR"); }

/// The metric lines of a summary (from "labels:" to "oracle:").
std::string metric_lines(const std::string& summary) {
  const auto a = summary.find("labels:");
  const auto b = summary.find('\n', summary.find("oracle:"));
  return a == std::string::npos || b == std::string::npos ? "" : summary.substr(a, b - a);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

/// Files in `dir` (names only).
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("detect: the bundled NAB model on its real series, with NAB windows; eval agrees", "[cli][e2e][data]") {
  const fs::path dir = scratch() / "nab";
  fs::create_directories(dir);
  const fs::path out = dir / "nab.csv";
  const Run r = run_cli({"detect", "--model", (models() / "nab_machine_temp.safetensors").string(), "--input",
                       (models() / "data" / "machine_temperature_system_failure.csv").string(), "--order", "ignore",
                       "--labels", (models() / "data" / "machine_temperature_system_failure_windows.json").string(),
                       "--device", "cpu", "--output", out.string()});
  REQUIRE(r.code == 0);
  INFO(r.out);
  CHECK(r.out.find("threshold:  static (the model file's default): threshold 0.421907 (model file, calibrated "
                   "\"max_f1_injected\")") != std::string::npos);
  CHECK(r.out.find("flagged:    497 rows in 41 events") != std::string::npos);
  // train.py's own evaluation of this model (models/README.md): -2.9 at the default threshold,
  // all 4 windows detected, 77 false-alarm rows.
  CHECK(r.out.find("NAB score:  -2.9 standard") != std::string::npos);
  CHECK(r.out.find("4 of 4 windows detected") != std::string::npos);
  CHECK(r.out.find("(tp 420, fp 77, fn 1848)") != std::string::npos);
  CHECK(r.err.find("warning") == std::string::npos);  // no F29 diagnostic for a model that follows its input

  const std::vector<std::string> rows = lines_of(slurp(out));
  REQUIRE(rows.size() == 22696);
  CHECK(rows[0] == "timestamp,value,score,threshold,is_anomaly,filled");
  CHECK(rows[1] == "2013-12-02 21:15:00,73.96732,,,,0");  // warm-up rows: no score; nothing filled
  CHECK(rows[64].substr(rows[64].size() - 5) == ",,,,0");
  CHECK(rows[65].find(",0.4219069474314241,") != std::string::npos);
  const nlohmann::json events = nlohmann::json::parse(slurp(dir / "nab.events.json"));
  REQUIRE(events["events"].size() == 41);
  CHECK(events["events"][0]["why"] == "value 100%");
  CHECK(events["flagged_rows"] == 497);
  CHECK(events["metrics"]["nab_score"]["standard"].get<double>() == Approx(-2.9).margin(0.05));
  for (const auto& e : events["events"]) CHECK(e["peak_score"].get<double>() > 0.4219069474314241);

  const Run ev = run_cli({"eval", "--scores", out.string(), "--labels",
                        (models() / "data" / "machine_temperature_system_failure_windows.json").string()});
  REQUIRE(ev.code == 0);
  CHECK(metric_lines(ev.out) == metric_lines(r.out));
  CHECK_FALSE(metric_lines(ev.out).empty());
}

TEST_CASE("detect: the bundled SMD model, 0/1 labels, every threshold method; eval agrees", "[cli][e2e][data]") {
  const fs::path labels = models() / "data" / "smd_machine-1-7_test_head2500_label.txt";
  for (const char* method : {"static", "ndt", "spot", "dspot"}) {
    INFO(method);
    const fs::path out = scratch() / (std::string("smd_") + method + ".csv");
    const Run r = run_cli({"detect", "-m", (models() / "smd_machine-1-7.safetensors").string(), "-i",
                         (models() / "data" / "smd_machine-1-7_test_head2500.csv").string(), "--labels", labels.string(),
                         "--threshold", method, "--device", "cpu", "-o", out.string()});
    REQUIRE(r.code == 0);
    CHECK(r.out.find(std::string("threshold:  ") + method + " (--threshold)") != std::string::npos);
    CHECK(r.out.find("scored:     2500 of 2500 rows") != std::string::npos);
    CHECK(r.out.find("labels:     0/1 labels") != std::string::npos);
    CHECK(r.out.find("21 anomalous rows in 1 segment") != std::string::npos);
    CHECK(fs::exists(scratch() / (std::string("smd_") + method + ".events.json")));
    const std::vector<std::string> rows = lines_of(slurp(out));
    REQUIRE(rows.size() == 2501);
    CHECK(rows[0].rfind("m1,m2,m3,", 0) == 0);
    const Run ev = run_cli({"eval", "-s", out.string(), "-l", labels.string()});
    REQUIRE(ev.code == 0);
    CHECK(metric_lines(ev.out) == metric_lines(r.out));
  }
  // Every method's own numbers: the segment (rows 837-857) is found by each.
  const Run spot = run_cli({"detect", "-m", (models() / "smd_machine-1-7.safetensors").string(), "-i",
                          (models() / "data" / "smd_machine-1-7_test_head2500.csv").string(), "--threshold", "spot"});
  REQUIRE(spot.code == 0);
  CHECK(spot.out.find("calibrated on the first 501 scored rows") != std::string::npos);
  CHECK(spot.out.find("q 0.001 (model file), level 0.98 (model file)") != std::string::npos);
}

TEST_CASE("detect: a failure leaves no output behind, and an old output untouched", "[cli][e2e]") {
  const fs::path dir = scratch() / "atomic";
  fs::create_directories(dir);
  const fs::path bad = dir / "bad.csv";
  std::ofstream(bad) << "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n2024-01-01 00:10:00,abc\n";
  const std::string model = (models() / "nab_machine_temp.safetensors").string();
  const Run r = run_cli({"detect", "-m", model, "-i", bad.string(), "-o", (dir / "out.csv").string()});
  CHECK(r.code == 3);
  CHECK(r.err == "rnnad: error: " + bad.string() + ":4:2: column 'value': 'abc' is not a number\n");
  CHECK(listing(dir) == std::vector<std::string>{"bad.csv"});

  // A run that fails after scoring (labels that do not match) keeps the previous output as it was.
  write_file("atomic/out.csv", "old\n");
  std::string good = "timestamp,value\n";
  for (int i = 0; i < 100; ++i) good += "2024-01-01 " + std::to_string(10 + i / 12) + ":" + (i % 12 < 2 ? "0" : "") +
                                        std::to_string(5 * (i % 12)) + ":00," + std::to_string(80 + i % 7) + "\n";
  write_file("atomic/good.csv", good);
  write_file("atomic/labels.txt", "0\n1\n");
  const Run l = run_cli({"detect", "-m", model, "-i", (dir / "good.csv").string(), "-l", (dir / "labels.txt").string(), "-o",
                       (dir / "out.csv").string()});
  CHECK(l.code == 3);
  CHECK(l.err.find("2 labels for 100 rows") != std::string::npos);
  CHECK(slurp(dir / "out.csv") == "old\n");
  CHECK(listing(dir) == std::vector<std::string>{"bad.csv", "good.csv", "labels.txt", "out.csv"});

  // An output directory that does not exist: exit 3 naming the file, nothing written.
  const Run d = run_cli({"detect", "-m", model, "-i", (dir / "good.csv").string(), "-o", (dir / "no" / "out.csv").string()});
  CHECK(d.code == 3);
  CHECK(d.err.find((dir / "no" / "out.csv").string() + ": cannot create a temporary file") != std::string::npos);
  // Outputs that would destroy data are refused before anything runs (found by the newcomer check):
  // the input itself, the events JSON onto the per-row CSV, an existing directory.
  const std::string good_before = slurp(dir / "good.csv");
  const Run same_input = run_cli({"detect", "-m", model, "-i", (dir / "good.csv").string(), "-o",
                                  (dir / "." / "good.csv").string()});
  CHECK(same_input.code == 3);
  CHECK(same_input.err.find("is also an input of this run") != std::string::npos);
  CHECK(slurp(dir / "good.csv") == good_before);
  const Run same_outputs = run_cli({"detect", "-m", model, "-i", (dir / "good.csv").string(), "-o",
                                    (dir / "same.csv").string(), "--events", (dir / "same.csv").string()});
  CHECK(same_outputs.code == 3);
  CHECK(same_outputs.err.find("would be the same file") != std::string::npos);
  const Run to_dir = run_cli({"detect", "-m", model, "-i", (dir / "good.csv").string(), "-o", dir.string()});
  CHECK(to_dir.code == 3);
  CHECK(to_dir.err.find("is a directory") != std::string::npos);
  CHECK(listing(dir) == std::vector<std::string>{"bad.csv", "good.csv", "labels.txt", "out.csv"});
  // The same run with a good output writes both files.
  const Run ok = run_cli({"detect", "-m", model, "-i", (dir / "good.csv").string(), "-o", (dir / "out.csv").string()});
  CHECK(ok.code == 0);
  CHECK(lines_of(slurp(dir / "out.csv")).size() == 101);
  CHECK(fs::exists(dir / "out.events.json"));
}

TEST_CASE("F29: detect says the model output is constant, with the numbers", "[cli][e2e][field]") {
  const std::vector<unsigned char> bytes = rnnad::test::constant_model_file({0.42f}, R"(, "scoring": {"method": "absolute"})");
  write_file("f29.safetensors", std::string(bytes.begin(), bytes.end()));
  write_file("f29.csv", "value\n1.0\n0.42\n-0.58\n0.42\n2.42\n0.42\n0.42\n");
  const Run r = run_cli({"detect", "-m", (scratch() / "f29.safetensors").string(), "-i", (scratch() / "f29.csv").string(), "-o",
                       (scratch() / "f29_out.csv").string(), "--device", "cpu"});
  REQUIRE(r.code == 0);
  CHECK(r.err.find("rnnad: warning: " + (scratch() / "f29.safetensors").string() +
                   ": model output is constant across 3 windows (std < 1e-7); scores reduce to |x - 0.42|") !=
        std::string::npos);
  const std::vector<std::string> rows = lines_of(slurp(scratch() / "f29_out.csv"));
  REQUIRE(rows.size() == 8);
  const double want[] = {0.58, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0};
  for (int i = 0; i < 7; ++i) {
    const std::string& row = rows[static_cast<std::size_t>(i) + 1];
    const double score = std::stod(row.substr(row.find(',') + 1));
    CHECK(score == Approx(want[i]).margin(1e-7));
  }
  CHECK(r.out.find("threshold:  static (rnnad default: the model file has no threshold)") != std::string::npos);
}

TEST_CASE("detect: 10^5 rows in bounded memory", "[cli][e2e]") {
  // A machine-temperature-like series: daily cycle, deterministic noise, a fault at rows
  // 60000-60009 (-30). The model is a small stateful LSTM forecaster (random weights, z-scored
  // input), so 10^5 rows stay fast under ASan; it streams through the Scorer in 4096-row chunks.
  // (The NAB forecaster on 10^7 rows was measured once: docs/cli.md, "Memory and speed".)
  const std::string config = R"({"format_version": 1, "kind": "prediction", "model": {"cell": "LSTM", "input_size": 1,
      "hidden_size": 8, "num_layers": 1, "horizon": 1, "targets": [0], "output": "point", "state": "stateful"},
      "normalization": {"method": "zscore", "mean": [80], "std": [3.6], "features": ["value"]},
      "scoring": {"method": "absolute"}, "threshold": {"method": "static", "value": 4.0}})";
  const std::vector<unsigned char> bytes = rnnad::test::build_model(config, rnnad::test::random_model_weights(config, 3, 0.3f));
  write_file("long.safetensors", std::string(bytes.begin(), bytes.end()));
  const fs::path csv = scratch() / "long.csv";
  {
    std::ofstream out(csv);
    out << "timestamp,value\n";
    const int64_t t0 = 1388534400;  // 2014-01-01 00:00:00
    for (int64_t i = 0; i < 100000; ++i) {
      const double v = 80 + 5 * std::sin(2 * M_PI * static_cast<double>(i) / 288) +
                       0.3 * static_cast<double>((i * 7919) % 13) / 13 + (i >= 60000 && i < 60010 ? -30 : 0);
      out << rnnad::format_timestamp(t0 + 300 * i) << "," << v << "\n";
    }
  }
  const fs::path out = scratch() / "long_out.csv";
  const Run r = run_cli({"detect", "-m", (scratch() / "long.safetensors").string(), "-i", csv.string(), "-o", out.string(),
                         "--device", "cpu"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("scored:     99999 of 100000 rows") != std::string::npos);
  CHECK(lines_of(slurp(out)).size() == 100001);
  const nlohmann::json events = nlohmann::json::parse(slurp(scratch() / "long_out.events.json"));
  REQUIRE(events["events"].size() >= 1);
  bool fault_found = false;
  for (const auto& e : events["events"])
    fault_found = fault_found || (e["start_row"].get<int64_t>() <= 60010 && e["end_row"].get<int64_t>() >= 60000);
  CHECK(fault_found);
}

TEST_CASE("rnnad exit codes and one-line errors for detect and eval", "[cli][e2e]") {
  const std::string model = (models() / "nab_machine_temp.safetensors").string();
  const std::string nab = (models() / "data" / "machine_temperature_system_failure.csv").string();
  CHECK(run_cli({}).code == 2);
  CHECK(run_cli({"detect", "-i", nab}).code == 2);                                         // --model missing
  CHECK(run_cli({"detect", "-m", model, "-i", nab, "--threshold", "median"}).code == 2);    // not a method
  CHECK(run_cli({"detect", "-m", model, "-i", nab, "--fill", "zero"}).code == 2);           // not a policy
  CHECK(run_cli({"eval", "--scores", nab}).code == 2);                                     // --labels missing
  const Run help = run_cli({"detect", "--help"});
  CHECK(help.code == 0);
  for (const char* opt : {"--threshold", "--spot-q", "--order", "--duplicates", "--fill", "--bridge-gaps", "--columns", "--labels"})
    CHECK(help.out.find(opt) != std::string::npos);
  CHECK(run_cli({"eval", "--help"}).code == 0);
  const Run version = run_cli({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out.rfind("rnnad ", 0) == 0);
  // The bundled NAB file steps back at line 10151: the default policy refuses it, naming the line.
  const Run order = run_cli({"detect", "-m", model, "-i", nab});
  CHECK(order.code == 3);
  CHECK(order.err.find(nab + ":10151:1: timestamp not increasing") != std::string::npos);
  CHECK(std::count(order.err.begin(), order.err.end(), '\n') == 1);
  const Run missing = run_cli({"detect", "-m", model, "-i", "/no/such.csv"});
  CHECK(missing.code == 3);
  CHECK(missing.err == "rnnad: error: /no/such.csv: no such file\n");
  if (rnnad::cuda_device_count() == 0) {
    const Run cuda = run_cli({"detect", "-m", model, "-i", nab, "--order", "ignore", "--device", "cuda"});
    CHECK(cuda.code == 3);
    CHECK(cuda.err.find("rnnad: error: ") == 0);
  }
  const Run spot = run_cli({"detect", "-m", model, "-i", nab, "--order", "ignore", "--threshold", "spot", "--spot-q", "0.5"});
  CHECK(spot.code == 3);
  CHECK(spot.err.find("--spot-q 0.5 must lie in (0, 1 - level)") != std::string::npos);
}

TEST_CASE("detect: 0/1 labels follow the rows the input policy dropped", "[cli][e2e]") {
  const std::vector<unsigned char> bytes = rnnad::test::constant_model_file({0.42f}, R"(, "scoring": {"method": "absolute"})");
  write_file("dup.safetensors", std::string(bytes.begin(), bytes.end()));
  // Line 4 repeats 00:05 (dropped with keep-first); its label 1 must not shift the others.
  write_file("dup.csv", "timestamp,value\n2024-01-01 00:00:00,1.0\n2024-01-01 00:05:00,0.42\n2024-01-01 00:05:00,9\n"
                        "2024-01-01 00:10:00,-0.58\n2024-01-01 00:15:00,0.42\n2024-01-01 00:20:00,2.42\n"
                        "2024-01-01 00:25:00,0.42\n2024-01-01 00:30:00,0.42\n");
  write_file("dup_labels.txt", "0\n0\n1\n0\n0\n1\n0\n0\n");
  const Run r = run_cli({"detect", "-m", (scratch() / "dup.safetensors").string(), "-i", (scratch() / "dup.csv").string(),
                         "--duplicates", "keep-first", "-l", (scratch() / "dup_labels.txt").string(), "--threshold-value", "1.5"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("7 rows x 1 feature (value), 2024-01-01 00:00:00 to 2024-01-01 00:30:00 (8 rows read)") != std::string::npos);
  CHECK(r.out.find("1 anomalous row in 1 segment") != std::string::npos);
  CHECK(r.out.find("F1 1.000 (tp 1, fp 0, fn 0)") != std::string::npos);  // the 2.42 row, label line 6
  CHECK(r.err.find("dropped 1 row with a repeated timestamp (keep-first): line 4") != std::string::npos);
}

// ---- The newcomer's CLI defects (issue 7): each fixed, each tested ----------------------------

namespace {

/// The constant model of the F29 test (prediction 0.42, absolute scores |x - 0.42|) in scratch().
std::string constant_model(const std::string& name) {
  const std::vector<unsigned char> bytes =
      rnnad::test::constant_model_file({0.42f}, R"(, "scoring": {"method": "absolute"})");
  return write_file(name, std::string(bytes.begin(), bytes.end())).string();
}

/// A usage error: exit 2 and exactly one line "rnnad: error: <message> (see <help>)".
void check_usage_error(const Run& r, const std::string& message, const std::string& help) {
  CHECK(r.code == 2);
  CHECK(r.err == "rnnad: error: " + message + " (see " + help + ")\n");
}

/// "--name ... =default" of a --help line: the default CLI11 prints (empty when none).
std::string help_default(const std::string& line) {
  const std::string head = line.substr(0, line.find("  ", line.find_first_not_of(' ')));
  const auto eq = head.rfind('=');
  return eq == std::string::npos ? "" : head.substr(eq + 1);
}

}  // namespace

TEST_CASE("issue 7: an unknown subcommand is named, with the valid ones", "[cli][e2e]") {
  const Run r = run_cli({"frobnicate"});
  CHECK(r.code == 2);
  CHECK(r.err.rfind(
            "rnnad: error: unknown subcommand 'frobnicate'; the subcommands are validate, inspect, detect, eval", 0) ==
        0);
  CHECK(r.err.find("(see rnnad --help)\n") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  const Run none = run_cli({});
  CHECK(none.code == 2);
  CHECK(none.err.rfind("rnnad: error: a subcommand is required: validate, inspect, detect, eval", 0) == 0);
  CHECK(std::count(none.err.begin(), none.err.end(), '\n') == 1);
}

TEST_CASE("issue 7: usage errors are one line naming the option and the value, exit 2", "[cli][e2e]") {
  const std::string model = (models() / "nab_machine_temp.safetensors").string();
  const std::string nab = (models() / "data" / "machine_temperature_system_failure.csv").string();
  const std::vector<std::string> run{"detect", "-m", model, "-i", nab, "--order", "ignore"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = run;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  };
  // Every option with a fixed set of values, the same way (--device before the input is read).
  check_usage_error(with({"--device", "gpu"}), "--device: 'gpu' is not one of auto, cpu, cuda, cuda:N",
                    "rnnad detect --help");
  check_usage_error(run_cli({"validate", "-m", model, "--device", "gpu"}),
                    "--device: 'gpu' is not one of auto, cpu, cuda, cuda:N", "rnnad validate --help");
  check_usage_error(with({"--fill", "zero"}), "--fill: 'zero' is not one of error, interpolate, ffill",
                    "rnnad detect --help");
  check_usage_error(with({"--fill", "none"}), "--fill: 'none' is not one of error, interpolate, ffill",
                    "rnnad detect --help");
  check_usage_error(with({"--order", "x"}), "--order: 'x' is not one of error, sort, ignore", "rnnad detect --help");
  check_usage_error(with({"--duplicates", "x"}), "--duplicates: 'x' is not one of error, keep-first, keep-last",
                    "rnnad detect --help");
  check_usage_error(with({"--header", "x"}), "--header: 'x' is not one of auto, present, absent",
                    "rnnad detect --help");
  check_usage_error(with({"--threshold", "median"}), "--threshold: 'median' is not one of static, ndt, spot, dspot",
                    "rnnad detect --help");
  check_usage_error(with({"--ndt-mode", "x"}), "--ndt-mode: 'x' is not one of batch, sliding", "rnnad detect --help");
  check_usage_error(with({"--spot-few-peaks", "x"}), "--spot-few-peaks: 'x' is not one of error, fallback",
                    "rnnad detect --help");
  // Numbers that are not finite name the option and the value (not an internal function).
  check_usage_error(with({"--threshold-value", "nan"}), "--threshold-value: 'nan' is not a finite number",
                    "rnnad detect --help");
  check_usage_error(with({"--threshold-value", "inf"}), "--threshold-value: 'inf' is not a finite number",
                    "rnnad detect --help");
  check_usage_error(with({"--spot-q", "nan"}), "--spot-q: 'nan' is not a finite number", "rnnad detect --help");
  check_usage_error(with({"--spot-level", "-inf"}), "--spot-level: '-inf' is not a finite number",
                    "rnnad detect --help");
  check_usage_error(with({"--gap-factor", "nan"}), "--gap-factor: 'nan' is not a finite number", "rnnad detect --help");
  check_usage_error(with({"--gap-factor", "1"}), "--gap-factor: '1' is not above 1", "rnnad detect --help");
  check_usage_error(with({"--delimiter", ";;"}), "--delimiter: ';;' is not one character", "rnnad detect --help");
  check_usage_error(run_cli({"detect", "-i", nab}), "--model is required", "rnnad detect --help");
  check_usage_error(with({"--no-such-option"}), "the following argument was not expected: --no-such-option",
                    "rnnad detect --help");
}

TEST_CASE("issue 7: a CUDA device this machine lacks is named as given, before the input is read", "[cli][e2e]") {
  const std::string model = (models() / "nab_machine_temp.safetensors").string();
  if (rnnad::cuda_device_count() >= 2) {
    WARN("this machine has cuda:1: nothing to check");
    return;
  }
  // The input does not exist: the device is checked first.
  const Run r = run_cli({"detect", "-m", model, "-i", "/no/such.csv", "--device", "cuda:1"});
  CHECK(r.code == 3);
  CHECK(r.err.rfind("rnnad: error: --device cuda:1: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  const Run v = run_cli({"validate", "-m", model, "--device", "cuda:1"});
  CHECK(v.code == 3);
  CHECK(v.err.rfind("rnnad: error: --device cuda:1: ", 0) == 0);
  if (rnnad::cuda_device_count() == 0) {
    const Run plain = run_cli({"detect", "-m", model, "-i", "/no/such.csv", "--device", "cuda"});
    CHECK(plain.code == 3);
    CHECK(plain.err.rfind("rnnad: error: --device cuda: ", 0) == 0);
  }
}

TEST_CASE("issue 7: SPOT with too few calibration rows says what a CLI user can change", "[cli][e2e]") {
  // The first 300 rows of the NAB series: 236 scored rows (64 rows of warm-up).
  std::ifstream in(models() / "data" / "machine_temperature_system_failure.csv");
  std::string text;
  std::string line;
  for (int i = 0; i < 301 && std::getline(in, line); ++i) text += line + "\n";
  const std::string csv = write_file("short.csv", text).string();
  const std::string model = (models() / "nab_machine_temp.safetensors").string();
  // Level 0.98 needs n - trunc(0.98 n) - 1 >= 10 peaks: n = 501 (500 gives 9), 511 with DSPOT's depth 10.
  const Run spot = run_cli({"detect", "-m", model, "-i", csv, "--threshold", "spot", "--calibration-rows", "200"});
  CHECK(spot.code == 3);
  CHECK(spot.err ==
        "rnnad: error: --calibration-rows 200: spot at level 0.98 needs at least 501 calibration rows (10 peaks "
        "above the initial threshold); give at least 501, a lower --spot-level, or --spot-few-peaks fallback\n");
  const Run dspot = run_cli({"detect", "-m", model, "-i", csv, "--threshold", "dspot", "--calibration-rows", "510"});
  CHECK(dspot.code == 3);
  CHECK(dspot.err.find("dspot at level 0.98 needs at least 511 calibration rows") != std::string::npos);
  // The option the advice names works: the alarm threshold is the calibration maximum.
  const fs::path out = scratch() / "short_out.csv";
  const Run fallback = run_cli({"detect", "-m", model, "-i", csv, "--threshold", "spot", "--calibration-rows", "200",
                                "--spot-few-peaks", "fallback", "-o", out.string(), "--device", "cpu"});
  REQUIRE(fallback.code == 0);
  CHECK(fallback.out.find("at least 10 calibration peaks (fewer: the calibration maximum") != std::string::npos);
  double cal_max = -1, first_threshold = -1;
  int scored = 0;
  for (const std::string& row : lines_of(slurp(out))) {
    std::vector<std::string> cells;
    std::stringstream ss(row);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (cells.size() < 4 || cells[2].empty() || cells[2] == "score") continue;
    if (++scored <= 200)
      cal_max = std::max(cal_max, std::stod(cells[2]));
    else if (first_threshold < 0)
      first_threshold = std::stod(cells[3]);
  }
  CHECK(scored == 236);
  CHECK(first_threshold == cal_max);
}

TEST_CASE("issue 7: NAB windows on a cut-down series are skipped or clipped, with notes", "[cli][e2e]") {
  const std::string model = constant_model("cut.safetensors");
  // 8 rows, 2024-01-01 00:00 to 00:35, scores |x - 0.42| = 0.58 0 1 0 2 0 0 0.
  const std::string csv = write_file("cut.csv",
                                     "timestamp,value\n2024-01-01 00:00:00,1.0\n2024-01-01 00:05:00,0.42\n"
                                     "2024-01-01 00:10:00,-0.58\n2024-01-01 00:15:00,0.42\n"
                                     "2024-01-01 00:20:00,2.42\n2024-01-01 00:25:00,0.42\n"
                                     "2024-01-01 00:30:00,0.42\n2024-01-01 00:35:00,0.42\n")
                              .string();
  const std::string labels = write_file("cut_windows.json",
                                        R"({"x/cut.csv": [["2023-12-31 23:50:00.000000", "2024-01-01 00:05:00.000000"],
                                   ["2024-01-01 00:15:00.000000", "2024-01-01 00:20:00.000000"],
                                   ["2024-01-01 00:30:00.000000", "2024-01-01 00:50:00.000000"],
                                   ["2024-01-02 00:00:00.000000", "2024-01-02 01:00:00.000000"]]})")
                                 .string();
  const fs::path out = scratch() / "cut_out.csv";
  const Run r = run_cli({"detect", "-m", model, "-i", csv, "-l", labels, "--threshold-value", "1.5", "-o", out.string(),
                         "--device", "cpu"});
  REQUIRE(r.code == 0);
  const std::string span = "the series' time span (2024-01-01 00:00:00 to 2024-01-01 00:35:00)";
  const std::string where = "rnnad: note: " + labels + ": x/cut.csv: ";
  const std::string notes =
      where + "window 0 [2023-12-31 23:50:00.000000, 2024-01-01 00:05:00.000000] reaches beyond " + span +
      ": clipped to [2024-01-01 00:00:00, 2024-01-01 00:05:00.000000]\n" + where +
      "window 2 [2024-01-01 00:30:00.000000, 2024-01-01 00:50:00.000000] reaches beyond " + span +
      ": clipped to [2024-01-01 00:30:00.000000, 2024-01-01 00:35:00]\n" + where + "1 of 4 NAB windows lies outside " +
      span + " and is skipped: window 3 [2024-01-02 00:00:00.000000, 2024-01-02 01:00:00.000000]\n";
  CHECK(r.err.find(notes) != std::string::npos);
  // Labelled rows 0-1, 3-4, 6-7; flagged: row 4 only (score 2 > 1.5). F1 = 2 (1 * 1/6) / (1 + 1/6) = 2/7.
  CHECK(r.out.find("labels:     3 NAB windows of x/cut.csv (" + labels + "): 6 anomalous rows in 3 segments") !=
        std::string::npos);
  CHECK(r.out.find("point:      precision 1.000, recall 0.167, F1 0.286 (tp 1, fp 0, fn 5)") != std::string::npos);
  CHECK(r.out.find("(1 of 3 segments detected") != std::string::npos);
  // eval on the output maps the same windows the same way.
  const Run ev = run_cli({"eval", "--scores", out.string(), "-l", labels});
  REQUIRE(ev.code == 0);
  CHECK(ev.err.find(notes) != std::string::npos);
  CHECK(metric_lines(ev.out) == metric_lines(r.out));

  // No window overlaps the series: legitimate (NAB has files without windows), said in a note.
  const std::string later =
      write_file("later_windows.json",
                 R"({"x/cut.csv": [["2024-01-02 00:00:00.000000", "2024-01-02 01:00:00.000000"]]})")
          .string();
  const Run none =
      run_cli({"detect", "-m", model, "-i", csv, "-l", later, "--threshold-value", "1.5", "--device", "cpu"});
  REQUIRE(none.code == 0);
  CHECK(none.err.find("1 of 1 NAB windows lies outside " + span +
                      " and is skipped (the series has no labelled rows): window 0 [2024-01-02 00:00:00.000000") !=
        std::string::npos);
  CHECK(none.out.find("labels:     0 NAB windows of x/cut.csv (" + later + "): 0 anomalous rows in 0 segments") !=
        std::string::npos);
  CHECK(none.out.find("NAB score:  n/a standard") != std::string::npos);
  // A window inside the span whose start is not a timestamp of the series still fails.
  const std::string off =
      write_file("off_windows.json", R"({"x/cut.csv": [["2024-01-01 00:12:00.000000", "2024-01-01 00:20:00.000000"]]})")
          .string();
  const Run bad = run_cli({"detect", "-m", model, "-i", csv, "-l", off, "--device", "cpu"});
  CHECK(bad.code == 3);
  CHECK(bad.err.find("window 0 [2024-01-01 00:12:00.000000, 2024-01-01 00:20:00.000000]: start timestamp") !=
        std::string::npos);
}

TEST_CASE("issue 7: filled rows are marked in the per-row CSV, and eval still reads it", "[cli][e2e]") {
  const std::string model = constant_model("fill.safetensors");
  // Line 4 (row 2) is missing: interpolate gives (0.42 + 0.42) / 2 = 0.42; the input column is
  // named `filled`, which the output renames input_filled.
  const std::string csv = write_file("fill.csv",
                                     "timestamp,filled\n2024-01-01 00:00:00,1.0\n2024-01-01 00:05:00,0.42\n"
                                     "2024-01-01 00:10:00,\n2024-01-01 00:15:00,0.42\n"
                                     "2024-01-01 00:20:00,2.42\n")
                              .string();
  const fs::path out = scratch() / "fill_out.csv";
  const Run strict = run_cli({"detect", "-m", model, "-i", csv, "--device", "cpu"});
  CHECK(strict.code == 3);  // the default, --fill error
  CHECK(strict.err.find(csv + ":4:2: column 'filled': missing value") != std::string::npos);
  const Run r = run_cli({"detect", "-m", model, "-i", csv, "--fill", "interpolate", "--threshold-value", "1.5", "-o",
                         out.string(), "--device", "cpu"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("policy:     order error, duplicates error, fill interpolate,") != std::string::npos);
  const std::vector<std::string> rows = lines_of(slurp(out));
  REQUIRE(rows.size() == 6);
  CHECK(rows[0] == "timestamp,input_filled,score,threshold,is_anomaly,filled");
  CHECK(rows[2].substr(rows[2].size() - 2) == ",0");
  CHECK(rows[3] == "2024-01-01 00:10:00,0.42,0,1.5,0,1");
  CHECK(rows[5].rfind("2024-01-01 00:20:00,2.42,2.0000", 0) == 0);  // |2.42f - 0.42f|, in float32 steps
  CHECK(rows[5].substr(rows[5].size() - 8) == ",1.5,1,0");
  write_file("fill_labels.txt", "0\n0\n0\n0\n1\n");
  const Run ev = run_cli({"eval", "--scores", out.string(), "-l", (scratch() / "fill_labels.txt").string()});
  REQUIRE(ev.code == 0);
  CHECK(ev.out.find("(tp 1, fp 0, fn 0)") != std::string::npos);
}

TEST_CASE("issue 7: the defaults --help shows are the defaults docs/cli.md gives", "[cli][e2e]") {
  const fs::path doc = models().parent_path() / "docs" / "cli.md";
  REQUIRE(fs::exists(doc));
  // The option tables of docs/cli.md's `rnnad detect` section: "| `--fill error\|interpolate\|ffill` | `error` | ...".
  std::map<std::string, std::string> documented;
  bool in_detect = false;
  for (std::string line : lines_of(slurp(doc))) {
    if (line.rfind("## ", 0) == 0) in_detect = line == "## `rnnad detect`";
    if (!in_detect || line.rfind("| `--", 0) != 0) continue;
    for (std::size_t p; (p = line.find("\\|")) != std::string::npos;) line.replace(p, 2, "/");
    const auto name_end = line.find_first_of(" ,`", 3);
    const std::string name = line.substr(3, name_end - 3);
    const auto c1 = line.find('|', 1), c2 = line.find('|', c1 + 1);
    std::string value = line.substr(c1 + 1, c2 - c1 - 1);
    std::erase(value, '`');
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of(' ') + 1);
    documented[name] = value;
  }
  const Run help = run_cli({"detect", "--help"});
  REQUIRE(help.code == 0);
  int compared = 0;
  for (const std::string& line : lines_of(help.out)) {
    const auto dashes = line.find("--");
    if (dashes == std::string::npos || line.find_first_not_of(' ') == std::string::npos) continue;
    const std::string name = line.substr(dashes, line.find_first_of(" =", dashes) - dashes);
    const std::string shown = help_default(line);
    if (shown.empty()) continue;
    INFO(name << ": --help shows " << shown);
    REQUIRE(documented.count(name) == 1);
    CHECK(documented[name] == shown);
    ++compared;
  }
  CHECK(compared >= 11);  // device, batch, merge-gap, top-features, max-events, fill, order, duplicates, gap-factor,
                          // header, delimiter
}
