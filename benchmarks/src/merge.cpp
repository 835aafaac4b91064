#include "merge.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench_error.h"

namespace rnnad::bench {

namespace {

using nlohmann::json;

double number(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

std::string text(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Stats stats(const json& j) {
  Stats s{};
  s.calls = j.is_object() ? j.value("calls", 0) : 0;
  if (s.calls == 0) return summarize({});
  s.median = number(j, "median_ms");
  s.p25 = number(j, "p25_ms");
  s.p75 = number(j, "p75_ms");
  s.min = number(j, "min_ms");
  s.max = number(j, "max_ms");
  s.p99 = number(j, "p99_ms");
  return s;
}

BackendResult result(const json& j, const RowResult& row, const CpuInfo& cpu) {
  BackendResult b;
  b.backend = text(j, "backend");
  b.device_class = text(j, "device") == "gpu" ? DeviceClass::Gpu : DeviceClass::Cpu;
  b.threads = j.value("threads", 1);
  b.status = text(j, "status");
  b.reason = text(j, "reason");
  b.notes = text(j, "notes");
  b.checked = j.contains("check_ok") && j["check_ok"].is_boolean();
  b.check = {b.checked && j["check_ok"].get<bool>(), number(j, "check_max_abs_err"), number(j, "check_max_scaled_err"),
             text(j, "check_message")};
  b.setup_ms = number(j, "setup_ms");
  b.wall = stats(j.value("wall", json::object()));
  b.device = summarize({});
  b.peak_mem_mib = j.contains("peak_mem_mib") && j["peak_mem_mib"].is_number() ? j["peak_mem_mib"].get<double>() : -1;
  if (b.wall.calls > 0 && b.wall.median > 0) {
    const double s = b.wall.median / 1000.0;
    b.windows_per_s = static_cast<double>(row.row.batch) / s;
    b.gflops = row.flop / s / 1e9;
    b.pct_peak = b.device_class == DeviceClass::Cpu && cpu.peak_gflops_per_thread > 0
                     ? 100.0 * b.gflops / (cpu.peak_gflops_per_thread * b.threads)
                     : std::nan("");
  }
  if (b.backend.empty() || b.status.empty()) throw BenchError("a result without backend or status");
  return b;
}

void check_shape(const json& jr, const RowResult& row) {
  const Row& r = row.row;
  const std::pair<const char*, int64_t> fields[] = {{"input_size", r.input}, {"hidden_size", r.hidden},
                                                    {"num_layers", r.layers}, {"seq_len", r.seq_len},
                                                    {"batch", r.batch}};
  for (const auto& [key, want] : fields)
    if (jr.value(key, want) != want)
      throw BenchError("row " + r.id + ": " + key + " " + std::to_string(jr.value(key, want)) + " differs from this run's " +
                       std::to_string(want));
  if (jr.contains("mode") && jr["mode"] != mode_name(r.mode))
    throw BenchError("row " + r.id + ": mode " + jr["mode"].dump() + " differs from this run's " + mode_name(r.mode));
}

}  // namespace

int merge_results(const std::string& path, std::vector<RowResult>& rows, const CpuInfo& cpu) {
  std::ifstream f(path);
  if (!f) throw BenchError("--merge: cannot read " + path);
  int merged = 0;
  try {
    const json j = json::parse(f);
    for (const json& jr : j.at("rows")) {
      const std::string id = jr.at("id").get<std::string>();
      const auto row = std::find_if(rows.begin(), rows.end(), [&](const RowResult& r) { return r.row.id == id; });
      if (row == rows.end()) continue;
      check_shape(jr, *row);
      for (const json& jb : jr.at("results")) {
        row->backends.push_back(result(jb, *row, cpu));
        ++merged;
      }
    }
  } catch (const json::exception& e) {
    throw BenchError("--merge " + path + ": " + e.what());
  } catch (const BenchError& e) {
    throw BenchError("--merge " + path + ": " + e.what());
  }
  return merged;
}

}  // namespace rnnad::bench
