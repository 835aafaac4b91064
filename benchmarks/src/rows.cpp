#include "rows.h"

#include <algorithm>
#include <sstream>

#include "bench_error.h"

namespace rnnad::bench {

namespace {

const char* cell_label(CellType c) {
  switch (c) {
    case CellType::Lstm: return "LSTM";
    case CellType::Gru: return "GRU";
    case CellType::RnnTanh: return "RNN_TANH";
    case CellType::RnnRelu: return "RNN_RELU";
  }
  return "?";
}

std::string str(int64_t v) { return std::to_string(v); }

// The "what" column: "LSTM 25→80 ×2, T 250, B 1" plus what the mode adds.
std::string describe(const Row& r) {
  std::string s = std::string(cell_label(r.cell)) + " " + str(r.input) + "→" + str(r.hidden);
  if (r.layers > 1) s += " ×" + str(r.layers);
  switch (r.mode) {
    case Mode::Forward: s += ", T " + str(r.seq_len); break;
    case Mode::Step: s += ", one step, state carried"; break;
    case Mode::Windows: s += " + Linear(" + str(r.hidden) + "→" + str(r.horizon) + "), windows of " + str(r.seq_len); break;
    case Mode::Reconstruct:
      s = "EncDec-AD " + s + " enc+dec, Linear(" + str(r.hidden) + "→" + str(r.input) + "), T " + str(r.seq_len);
      break;
  }
  return s + ", B " + str(r.batch) + (r.bf16 ? ", BF16 weights" : "");
}

Row row(std::string id, std::string suite, Mode mode, CellType cell, int64_t input, int64_t hidden, int64_t layers,
        int64_t seq_len, int64_t batch, int64_t horizon = 0) {
  Row r{std::move(id), std::move(suite), "", mode, cell, input, hidden, layers, seq_len, batch, horizon};
  r.what = describe(r);
  return r;
}

constexpr CellType kLstm = CellType::Lstm;
constexpr CellType kGru = CellType::Gru;

// performance.md §2.6: the peers' table (bare stacks, input projection included), plus the
// windowed Telemanom model at AD4's batch.
std::vector<Row> cpu_rows() {
  return {
      row("AD1", "cpu", Mode::Forward, kLstm, 25, 80, 2, 250, 1),
      row("AD4", "cpu", Mode::Forward, kLstm, 25, 80, 2, 250, 1024),
      row("AD4-win", "cpu", Mode::Windows, kLstm, 25, 80, 2, 250, 1024, 10),
      row("AD8", "cpu", Mode::Forward, kGru, 38, 500, 1, 100, 1),
      row("AD6", "cpu", Mode::Forward, kLstm, 38, 64, 1, 100, 256),
      row("DB1", "cpu", Mode::Forward, kLstm, 256, 256, 1, 150, 1),
      row("STEP1", "cpu", Mode::Step, kLstm, 25, 80, 2, 1, 1),
      row("STEP1024", "cpu", Mode::Step, kLstm, 25, 80, 2, 1, 1024),
  };
}

// performance.md §6.1 (full models), §6.2 (DeepBench shapes; the input projection is included
// here, I = H) and a trimmed §6.3 sweep (I 32, T 256; B 1 and 64). Ordered by importance: a
// deadline cuts the tail (the long DB5/DB7 sanity rows come last).
std::vector<Row> gpu_rows() {
  std::vector<Row> rows;
  auto add = [&](const std::string& id, Mode mode, CellType cell, int64_t input, int64_t hidden, int64_t layers,
                 int64_t seq_len, std::initializer_list<int64_t> batches, int64_t horizon = 0) {
    for (int64_t b : batches)
      rows.push_back(row(id + "-b" + str(b), "gpu", mode, cell, input, hidden, layers, seq_len, b, horizon));
  };
  add("AD1", Mode::Windows, kLstm, 25, 80, 2, 250, {1}, 10);
  add("AD2", Mode::Windows, kLstm, 25, 80, 2, 250, {70}, 10);
  add("AD3", Mode::Windows, kLstm, 25, 80, 2, 250, {1024}, 10);
  add("AD4", Mode::Windows, kLstm, 25, 80, 2, 250, {8192}, 10);
  add("AD10", Mode::Step, kLstm, 25, 80, 2, 1, {1, 1024, 65536});
  add("AD6", Mode::Reconstruct, kLstm, 38, 64, 1, 100, {1, 256, 4096});
  add("AD8", Mode::Forward, kGru, 38, 500, 1, 100, {1, 50, 1024});
  add("AD5", Mode::Windows, kLstm, 55, 80, 2, 250, {1, 8192}, 10);
  add("AD7", Mode::Reconstruct, kLstm, 1, 64, 1, 500, {1, 1024});
  add("AD9", Mode::Forward, kLstm, 25, 32, 2, 10000, {1, 64});
  add("DB1", Mode::Forward, kLstm, 256, 256, 1, 150, {1, 4});
  add("DB2", Mode::Forward, kLstm, 512, 512, 1, 25, {1, 4});
  add("DB3", Mode::Forward, kLstm, 1024, 1024, 1, 25, {1, 4});
  add("DB4", Mode::Forward, kLstm, 1536, 1536, 1, 50, {4});
  add("DB6", Mode::Forward, kGru, 512, 512, 1, 1, {1, 4});
  // The §6.3 sweep per cell, then its bf16 half at batch 1, where 16-bit weights move the plan's
  // limits (docs/kernels.md §9).
  for (CellType cell : {kLstm, kGru}) {
    const std::string name = std::string("cliff-") + (cell == kLstm ? "lstm" : "gru") + "-h";
    for (int64_t h : {32, 64, 128, 192, 256, 512, 1024})
      add(name + str(h), Mode::Forward, cell, 32, h, 1, 256, {1, 64});
    for (int64_t h : {128, 192, 256, 512, 1024}) {
      Row r = row(name + str(h) + "-bf16-b1", "gpu", Mode::Forward, cell, 32, h, 1, 256, 1);
      r.bf16 = true;
      r.what = describe(r);
      rows.push_back(r);
    }
  }
  add("DB5", Mode::Forward, kGru, 1024, 1024, 1, 1500, {1, 4});
  add("DB7", Mode::Forward, kGru, 2816, 2816, 1, 1500, {1});
  return rows;
}

// Tiny shapes: every mode, both cells, several layers; one wide row whose check runs on a subset.
std::vector<Row> quick_rows() {
  return {
      row("q-fwd-lstm", "quick", Mode::Forward, kLstm, 3, 8, 2, 12, 3),
      row("q-fwd-gru", "quick", Mode::Forward, kGru, 3, 8, 1, 12, 2),
      row("q-fwd-wide", "quick", Mode::Forward, kLstm, 4, 16, 1, 50, 96),
      row("q-step-lstm", "quick", Mode::Step, kLstm, 3, 8, 2, 1, 3),
      row("q-step-gru", "quick", Mode::Step, kGru, 3, 8, 2, 1, 2),
      row("q-win-lstm", "quick", Mode::Windows, kLstm, 3, 8, 2, 12, 4, 3),
      row("q-win-gru", "quick", Mode::Windows, kGru, 2, 8, 1, 9, 5, 2),
      row("q-recon-lstm", "quick", Mode::Reconstruct, kLstm, 3, 8, 2, 12, 3),
      row("q-recon-gru", "quick", Mode::Reconstruct, kGru, 3, 8, 1, 10, 2),
  };
}

}  // namespace

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::Forward: return "forward";
    case Mode::Step: return "step";
    case Mode::Windows: return "windows";
    case Mode::Reconstruct: return "reconstruct";
  }
  return "?";
}

std::vector<Row> suite_rows(const std::string& suite) {
  if (suite == "cpu") return cpu_rows();
  if (suite == "gpu") return gpu_rows();
  if (suite == "quick") return quick_rows();
  throw UsageError("unknown suite '" + suite + "' (want cpu, gpu or quick)");
}

std::vector<Row> filter_rows(const std::vector<Row>& rows, const std::string& ids) {
  if (ids.empty()) return rows;
  std::vector<std::string> wanted;
  std::stringstream ss(ids);
  for (std::string id; std::getline(ss, id, ',');)
    if (!id.empty()) wanted.push_back(id);
  auto matches = [](const Row& r, const std::string& id) { return r.id == id || r.id.substr(0, r.id.find('-')) == id; };
  for (const auto& id : wanted)
    if (std::none_of(rows.begin(), rows.end(), [&](const Row& r) { return matches(r, id); }))
      throw UsageError("--rows: no row '" + id + "' in this suite (rnnad_bench --list shows them)");
  std::vector<Row> out;
  for (const auto& r : rows)
    if (std::any_of(wanted.begin(), wanted.end(), [&](const std::string& id) { return matches(r, id); }))
      out.push_back(r);
  return out;
}

}  // namespace rnnad::bench
