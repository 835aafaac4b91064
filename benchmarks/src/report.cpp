#include "report.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <sstream>

#include "bench_error.h"

namespace rnnad::bench {

namespace {

using nlohmann::ordered_json;

ordered_json num(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }

ordered_json stats_json(const Stats& s) {
  return {{"calls", s.calls}, {"median_ms", num(s.median)}, {"p25_ms", num(s.p25)}, {"p75_ms", num(s.p75)},
          {"min_ms", num(s.min)}, {"max_ms", num(s.max)}, {"p99_ms", num(s.p99)}};
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string sig3(double v) {  // three significant digits, no exponent for the ranges we print
  if (!std::isfinite(v)) return "—";
  if (v == 0) return "0";
  const double a = std::abs(v);
  return fixed(v, a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

std::string sci(double v) {  // 1.2e-07
  if (!std::isfinite(v)) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", v);
  return buf;
}

std::string human_count(double v) {  // 1234567 -> "1.23 M"
  if (!std::isfinite(v) || v <= 0) return "—";
  if (v >= 1e9) return sig3(v / 1e9) + " G";
  if (v >= 1e6) return sig3(v / 1e6) + " M";
  if (v >= 1e3) return sig3(v / 1e3) + " k";
  return sig3(v);
}

std::string format_mib(double mib) {  // "166 MiB", "84 KiB", "—" when not measured
  if (!std::isfinite(mib) || mib < 0) return "—";
  return mib >= 1 ? sig3(mib) + " MiB" : sig3(mib * 1024) + " KiB";
}

const char* class_name(DeviceClass c) { return c == DeviceClass::Gpu ? "gpu" : "cpu"; }

bool probed_unavailable(const RunInfo& info, const std::string& backend) {
  for (const auto& [name, probe] : info.backends)
    if (name == backend) return !probe.available;
  return false;
}

std::string summary_cell(const BackendResult& b, bool quick) {
  if (b.status == "skipped") return "skipped";
  if (b.status == "failed") return "**FAILED**";
  return quick ? "ok" : format_ms(b.wall.median);
}

// A backend's column: its name, plus " (N threads)" when the run holds it at several thread counts
// (e.g. torch_bench.py's 1- and 2-thread files merged into one table).
std::string column(const BackendResult& b, const std::vector<BackendResult>& all) {
  const bool several = std::any_of(all.begin(), all.end(), [&](const BackendResult& o) {
    return o.backend == b.backend && o.threads != b.threads;
  });
  return several ? b.backend + " (" + std::to_string(b.threads) + (b.threads == 1 ? " thread)" : " threads)") : b.backend;
}

std::string pipe_safe(std::string s) {
  for (auto& ch : s)
    if (ch == '|' || ch == '\n') ch = ch == '|' ? '/' : ' ';
  return s;
}

}  // namespace

std::string format_ms(double ms) {
  if (!std::isfinite(ms)) return "—";
  if (ms < 1.0) return sig3(ms * 1000.0) + " µs";
  if (ms < 1000.0) return sig3(ms) + " ms";
  return sig3(ms / 1000.0) + " s";
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.flush();
  if (!f) throw BenchError("cannot write " + path);
}

void write_json(const std::string& path, const RunInfo& info, const std::vector<RowResult>& rows) {
  ordered_json backends = ordered_json::array();
  for (const auto& [name, p] : info.backends)
    backends.push_back({{"name", name}, {"available", p.available}, {"detail", p.detail}});
  ordered_json j = {
      {"tool", "rnnad_bench"},
      {"rnnad_version", info.rnnad_version},
      {"command", info.command},
      {"suite", info.suite},
      {"quick", info.quick},
      {"threads", info.threads},
      {"merged", info.merged},
      {"protocol",
       {{"rounds", info.rounds},
        {"time_per_row_s", info.time_per_row_s},
        {"check_gflop", info.check_gflop},
        {"tolerance", "|got - ref| <= 1e-5 * max(1, |ref|) against the Eigen reference kernel (rnnad-cpu-ref)"},
        {"flop", "2 x multiply-adds of the input, recurrent and head products; element-wise work not counted"}}},
      {"cpu",
       {{"model", info.cpu.model},
        {"logical_cpus", info.cpu.logical_cpus},
        {"ghz", info.cpu.ghz},
        {"peak_gflops_per_thread", info.cpu.peak_gflops_per_thread},
        {"peak_formula", info.cpu.formula}}},
      {"gpu",
       {{"available", info.gpu.available},
        {"name", info.gpu.name},
        {"sms", info.gpu.sms},
        {"compute_capability", std::to_string(info.gpu.cc_major) + "." + std::to_string(info.gpu.cc_minor)},
        {"clock_mhz", info.gpu.clock_mhz},
        {"memory_gib", info.gpu.memory_gib},
        {"runtime", info.gpu.runtime},
        {"peak_gflops", info.gpu.peak_gflops},
        {"peak_formula", info.gpu.formula}}},
      {"backends", backends},
      {"rows", ordered_json::array()}};
  for (const auto& r : rows) {
    ordered_json jr = {{"id", r.row.id},   {"suite", r.row.suite},       {"what", r.row.what},
                       {"mode", mode_name(r.row.mode)},                  {"input_size", r.row.input},
                       {"hidden_size", r.row.hidden},                    {"num_layers", r.row.layers},
                       {"seq_len", r.row.seq_len},                       {"batch", r.row.batch},
                       {"flop_per_call", r.flop},                        {"check", r.check_plan},
                       {"reference_ms", num(r.reference_ms)},            {"error", r.error},
                       {"results", ordered_json::array()}};
    for (const auto& b : r.backends) {
      jr["results"].push_back({{"backend", b.backend},
                               {"device", class_name(b.device_class)},
                               {"threads", b.threads},
                               {"status", b.status},
                               {"reason", b.reason},
                               {"notes", b.notes},
                               {"check_ok", b.checked ? ordered_json(b.check.ok) : ordered_json(nullptr)},
                               {"check_max_abs_err", b.checked ? num(b.check.max_abs_err) : nullptr},
                               {"check_max_scaled_err", b.checked ? num(b.check.max_scaled_err) : nullptr},
                               {"check_message", b.check.message},
                               {"setup_ms", num(b.setup_ms)},
                               {"wall", stats_json(b.wall)},
                               {"device_only", stats_json(b.device)},
                               {"windows_per_s", num(b.windows_per_s)},
                               {"gflops", num(b.gflops)},
                               {"pct_peak", num(b.pct_peak)},
                               {"peak_mem_mib", num(b.peak_mem_mib)},
                               {"peak_mem_kind", b.device_class == DeviceClass::Gpu ? "gpu cudaMemGetInfo delta"
                                                                                    : "host RSS high-water above start"}});
    }
    j["rows"].push_back(jr);
  }
  write_text(path, j.dump(2) + "\n");
}

std::string markdown(const RunInfo& info, const std::vector<RowResult>& rows) {
  std::ostringstream md;
  md << "# rnnad_bench: suite " << info.suite << (info.quick ? " (quick: correctness only, no timing)" : "") << "\n\n";
  md << "- command: `" << info.command << "`\n";
  md << "- CPU: " << info.cpu.model << ", " << info.cpu.logical_cpus << " logical CPUs; peak " << info.cpu.formula << "\n";
  md << "- GPU: " << info.gpu.name;
  if (info.gpu.available) md << ", " << info.gpu.runtime << "; peak " << info.gpu.formula;
  md << "\n";
  for (const auto& [name, p] : info.backends)
    md << "- " << name << ": " << (p.available ? "" : "**unavailable**: ") << pipe_safe(p.detail) << "\n";
  md << "- threads: " << info.threads
     << " (--threads: rnnad-cpu's EngineOptions::threads and oneDNN's OpenMP threads; % of peak is of the threads requested)\n";
  for (const auto& f : info.merged) md << "- merged: `" << f << "`\n";
  if (!info.quick)
    md << "- protocol: checked against the Eigen reference kernel (rnnad-cpu-ref) first; warm-up; " << info.rounds
       << " interleaved rounds; wall time per call (GPU: H2D + compute + D2H, synchronised)\n";

  std::vector<BackendResult> all;  // every result, for the column names
  for (const auto& r : rows) all.insert(all.end(), r.backends.begin(), r.backends.end());
  std::vector<std::string> names;  // columns in first-seen order
  for (const auto& b : all)
    if (std::find(names.begin(), names.end(), column(b, all)) == names.end()) names.push_back(column(b, all));

  md << "\n## Summary" << (info.quick ? ": check results" : ": median wall time per call") << "\n\n| row | model and shape |";
  for (const auto& n : names) md << " " << n << " |";
  md << "\n|---|---|";
  for (std::size_t i = 0; i < names.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& r : rows) {
    md << "| " << r.row.id << " | " << r.row.what << " |";
    for (const auto& n : names) {
      const auto it =
          std::find_if(r.backends.begin(), r.backends.end(), [&](const BackendResult& b) { return column(b, all) == n; });
      md << " " << (!r.error.empty() ? "not run" : it == r.backends.end() ? "—" : summary_cell(*it, info.quick)) << " |";
    }
    md << "\n";
  }

  md << "\n## Details\n\n";
  if (info.quick)
    md << "| row | backend | status | max scaled error | check |\n|---|---|---|---|---|\n";
  else
    md << "| row | backend | threads | status | median | IQR | p99 | calls | windows/s | GFLOP/s | % peak | setup | peak mem | "
          "max scaled error |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::vector<std::string> notes;
  for (const auto& r : rows) {
    if (!r.error.empty()) notes.push_back(r.row.id + ": " + r.error);
    for (const auto& b : r.backends) {
      if (b.status == "skipped" && probed_unavailable(info, b.backend)) continue;  // said once above
      const std::string err = b.checked ? sci(b.check.max_scaled_err) : "—";
      std::string status = b.status == "failed" ? "**failed**" : b.status;
      if (info.quick) {
        md << "| " << r.row.id << " | " << b.backend << " | " << status << " | " << err << " | "
           << pipe_safe(b.status == "ok" ? b.check.message : b.reason) << " |\n";
      } else {
        md << "| " << r.row.id << " | " << b.backend << " | " << b.threads << " | " << status << " | "
           << format_ms(b.wall.median) << " | "
           << format_ms(b.wall.p25) << "–" << format_ms(b.wall.p75) << " | " << format_ms(b.wall.p99) << " | "
           << b.wall.calls << " | " << human_count(b.windows_per_s) << " | " << sig3(b.gflops) << " | "
           << fixed(b.pct_peak, 1) << " | " << format_ms(b.setup_ms) << " | "
           << format_mib(b.peak_mem_mib) << " | " << err << " |\n";
        if (b.status != "ok") notes.push_back(r.row.id + " " + b.backend + ": " + b.reason);
      }
      if (b.device.calls > 0)
        notes.push_back(r.row.id + " " + b.backend + ": device-only time (CUDA events) median " + format_ms(b.device.median) +
                        ", IQR " + format_ms(b.device.p25) + "–" + format_ms(b.device.p75));
      if (!b.notes.empty() && b.backend != "rnnad-cuda" && b.backend != "rnnad-cpu")
        notes.push_back(r.row.id + " " + b.backend + ": " + b.notes);
    }
  }
  if (!notes.empty()) {
    md << "\nNotes:\n\n";
    for (const auto& n : notes) md << "- " << pipe_safe(n) << "\n";
  }
  return md.str();
}

}  // namespace rnnad::bench
