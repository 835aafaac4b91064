// rnnad_bench: times rnnad's CPU and CUDA paths and the cuDNN baseline on the rows of
// shared/docs/performance.md (§2.6 CPU rows, §6.1-6.3 GPU rows), after checking every backend
// against the Eigen path. Usage and how to read the output: docs/benchmarks.md.
//
//   rnnad_bench [--suite cpu|gpu] [--rows AD1,DB1] [--backends rnnad-cpu,cudnn] [--rounds 7]
//               [--time-per-row 1] [--threads 1] [--merge torch.json] [--json FILE]
//               [--markdown FILE] [--deadline-s S] [--list]
//   rnnad_bench --quick        # correctness only, tiny shapes, every backend available
//
// Exit codes: 0 every backend that ran passed its check; 1 a check or a backend failed;
// 2 usage error; 3 a row or output file could not be made; 4 internal error.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "backend.h"
#include "bench_error.h"
#include "harness.h"
#include "merge.h"
#include "report.h"
#include "rnnad/version.h"
#include "rows.h"

namespace rnnad::bench {
namespace {

struct Cli {
  std::string suite = "cpu", rows, backends, json, markdown;
  std::vector<std::string> merge;
  bool quick = false, list = false;
  double cpu_ghz = 0, deadline_s = 0;
  int cpu_fma_units = 2, threads = 1;
  ProtocolOptions protocol;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');)
    if (!x.empty()) out.push_back(x);
  return out;
}

// Backends named by --backends, or by default those of the suite's device class (all for --quick).
std::vector<Backend*> select_backends(const std::vector<std::unique_ptr<Backend>>& all, const Cli& cli) {
  std::vector<Backend*> out;
  const auto names = split(cli.backends);
  for (const auto& n : names)
    if (std::none_of(all.begin(), all.end(), [&](const auto& b) { return b->name() == n; }))
      throw UsageError("--backends: no backend '" + n + "' (rnnad_bench --list shows them)");
  for (const auto& b : all) {
    const bool wanted = !names.empty() ? std::find(names.begin(), names.end(), b->name()) != names.end()
                        : cli.quick    ? true
                                       : b->by_default() && (b->device_class() == DeviceClass::Gpu) == (cli.suite == "gpu");
    if (wanted) out.push_back(b.get());
  }
  return out;
}

void list(const std::vector<std::unique_ptr<Backend>>& all) {
  for (const char* suite : {"cpu", "gpu", "quick"}) {
    std::printf("suite %s:\n", suite);
    for (const auto& r : suite_rows(suite))
      std::printf("  %-25s %-11s %s\n", r.id.c_str(), mode_name(r.mode), r.what.c_str());
  }
  std::printf("backends:");
  for (const auto& b : all) std::printf(" %s", b->name().c_str());
  std::printf("\n");
}

std::string short_result(const BackendResult& b, bool quick) {
  if (b.status != "ok") return b.status;
  return quick ? "ok" : format_ms(b.wall.median);
}

int run(const Cli& cli, const std::string& command) {
  auto all = make_backends(BackendOptions{.threads = cli.threads});
  if (cli.list) {
    list(all);
    return 0;
  }
  for (const auto& path : cli.merge)  // before the rows run, not after
    if (!std::ifstream(path)) throw BenchError("--merge: cannot read " + path);
  const std::string suite = cli.quick ? "quick" : cli.suite;
  const auto rows = filter_rows(suite_rows(suite), cli.rows);
  RunInfo info;
  info.command = command;
  info.suite = suite;
  info.quick = cli.quick;
  info.rounds = cli.protocol.rounds;
  info.threads = cli.threads;
  info.time_per_row_s = cli.protocol.time_per_row_s;
  info.check_gflop = cli.protocol.check_gflop;
  info.cpu = cpu_info(cli.cpu_ghz, cli.cpu_fma_units);
  info.gpu = gpu_info();
  info.rnnad_version = rnnad::version();
  std::vector<ActiveBackend> active;
  for (Backend* b : select_backends(all, cli)) {
    active.push_back({b, b->probe()});
    info.backends.emplace_back(b->name(), active.back().probe);
    std::fprintf(stderr, "rnnad_bench: %s: %s%s\n", b->name().c_str(), active.back().probe.available ? "" : "unavailable: ",
                 active.back().probe.detail.c_str());
  }
  const auto start = std::chrono::steady_clock::now();
  auto elapsed_s = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::vector<RowResult> results;
  bool failed = false;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (cli.deadline_s > 0 && elapsed_s() > cli.deadline_s) {
      RowResult r;
      r.row = rows[i];
      r.error = "not run: --deadline-s " + std::to_string(static_cast<int>(cli.deadline_s)) + " passed";
      results.push_back(r);
    } else {
      results.push_back(run_row(rows[i], active, cli.protocol, info.cpu, info.gpu));
      const RowResult& r = results.back();
      std::string line = "[" + std::to_string(i + 1) + "/" + std::to_string(rows.size()) + "] " + r.row.id + ":";
      if (!r.error.empty()) line += " " + r.error;
      for (const auto& b : r.backends) {
        line += " " + b.backend + " " + short_result(b, cli.quick) + ";";
        failed = failed || b.status == "failed";
      }
      failed = failed || !r.error.empty();
      std::fprintf(stderr, "%s (%.1f s)\n", line.c_str(), elapsed_s());
    }
    if (!cli.json.empty()) write_json(cli.json, info, results);  // after every row: a timeout keeps what ran
    if (!cli.markdown.empty()) write_text(cli.markdown, markdown(info, results));
  }
  for (const auto& path : cli.merge) {
    const int n = merge_results(path, results, info.cpu);
    info.merged.push_back(path);
    std::fprintf(stderr, "rnnad_bench: merged %d results from %s\n", n, path.c_str());
  }
  if (!cli.merge.empty()) {  // a merged result that failed its own check fails the run too
    for (const auto& r : results)
      for (const auto& b : r.backends) failed = failed || b.status == "failed";
    if (!cli.json.empty()) write_json(cli.json, info, results);
    if (!cli.markdown.empty()) write_text(cli.markdown, markdown(info, results));
  }
  std::cout << markdown(info, results) << std::flush;
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace rnnad::bench

int main(int argc, char** argv) {
  using namespace rnnad::bench;
  Cli cli;
  CLI::App app{"rnnad_bench: check, then time, rnnad's CPU and CUDA paths and the cuDNN baseline (docs/benchmarks.md)"};
  app.add_option("--suite", cli.suite, "Rows to run: cpu (performance.md §2.6) or gpu (§6.1-6.3)")
      ->check(CLI::IsMember({"cpu", "gpu"}))
      ->capture_default_str();
  app.add_flag("--quick", cli.quick, "Correctness only: tiny rows, every backend available, no timing");
  app.add_option("--rows", cli.rows, "Comma-separated row ids (an id before '-' selects all its batches: AD6)");
  app.add_option("--backends", cli.backends, "Comma-separated backends (default: the suite's device; --list)");
  app.add_option("--rounds", cli.protocol.rounds, "Interleaved timing rounds")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--time-per-row", cli.protocol.time_per_row_s, "Seconds of timed calls per backend and row")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--warmup-ms", cli.protocol.warmup_ms, "Untimed warm-up per backend and row, at least 3 calls")
      ->check(CLI::Range(0.0, 60000.0))
      ->capture_default_str();
  app.add_option("--max-reps", cli.protocol.max_reps, "Calls per round at most")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--check-gflop", cli.protocol.check_gflop, "GFLOP budget of each row's Eigen reference (larger rows: subset)")
      ->check(CLI::Range(1e-9, 1e6))
      ->capture_default_str();
  app.add_option("--deadline-s", cli.deadline_s, "Start no row after this many seconds (0: none)")->capture_default_str();
  app.add_option("--threads", cli.threads, "CPU threads per call: rnnad-cpu's EngineOptions::threads and oneDNN's OpenMP threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--merge", cli.merge, "Merge results measured elsewhere (torch_bench.py's JSON) into the tables; repeatable");
  app.add_option("--json", cli.json, "Write the results as JSON (rewritten after every row)");
  app.add_option("--markdown", cli.markdown, "Write the Markdown tables (rewritten after every row)");
  app.add_option("--cpu-ghz", cli.cpu_ghz, "CPU clock for the peak (default: /proc/cpuinfo)");
  app.add_option("--cpu-fma-units", cli.cpu_fma_units, "FMA pipes per core for the CPU peak")->capture_default_str();
  app.add_flag("--list", cli.list, "List the rows of every suite and the backends, then exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "rnnad_bench: %s (--help lists the options)\n", e.what());
    return 2;
  }
  cli.protocol.quick = cli.quick;
  if (cli.quick && app.count("--check-gflop") == 0) cli.protocol.check_gflop = 2e-4;  // exercises the subset check
  std::string command = "rnnad_bench";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  try {
    return run(cli, command);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "rnnad_bench: %s\n", e.what());
    return 2;
  } catch (const BenchError& e) {
    std::fprintf(stderr, "rnnad_bench: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rnnad_bench: internal error: %s\n", e.what());
    return 4;
  }
}
