#include "workload.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "model_builder.h"
#include "rnnad/half_bits.h"

namespace rnnad::bench {

namespace {

// splitmix64: fast and deterministic, so a 95 M-parameter model is seeded in well under a second.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

void fill_uniform(std::vector<float>& v, Rng& rng, double scale) {
  for (auto& x : v) x = static_cast<float>((2.0 * rng.uniform01() - 1.0) * scale);
}

void fill_normal(std::vector<float>& v, Rng& rng, double sigma) {  // Box-Muller
  for (std::size_t i = 0; i < v.size(); i += 2) {
    const double r = std::sqrt(-2.0 * std::log(1.0 - rng.uniform01())), a = 2.0 * std::numbers::pi * rng.uniform01();
    v[i] = static_cast<float>(sigma * r * std::cos(a));
    if (i + 1 < v.size()) v[i + 1] = static_cast<float>(sigma * r * std::sin(a));
  }
}

std::vector<float> sized(int64_t n) { return std::vector<float>(static_cast<std::size_t>(n)); }

// The rnnad.config text of the row's model kind (docs/models.md).
std::string config_json(const Row& r) {
  if (r.mode == Mode::Forward || r.mode == Mode::Step) {
    RnnConfig c;
    c.mode = r.cell;
    c.input_size = r.input;
    c.hidden_size = r.hidden;
    c.num_layers = r.layers;
    return test::rnn_config_json(c);
  }
  nlohmann::ordered_json m = {{"cell", cell_type_name(r.cell)}, {"input_size", r.input}, {"hidden_size", r.hidden},
                              {"num_layers", r.layers}};
  if (r.mode == Mode::Windows) {
    m["horizon"] = r.horizon;
    m["targets"] = {0};
    m["output"] = "point";
    m["state"] = "windowed";
  } else {
    m["bidirectional_encoder"] = false;
    m["decode"] = "reverse";
  }
  m["seq_len"] = r.seq_len;
  nlohmann::ordered_json j = {{"format_version", 1},
                              {"kind", r.mode == Mode::Windows ? "prediction" : "reconstruction"},
                              {"producer", "rnnad_bench"},
                              {"model", m}};
  return j.dump();
}

// 2 x multiply-adds of one step of a stack for one sequence (input and recurrent products).
double stack_step_flop(const RnnConfig& c) {
  double f = 0;
  for (int64_t l = 0; l < c.num_layers; ++l)
    f += 2.0 * static_cast<double>(c.num_directions() * c.gate_size() * (c.layer_input_size(l) + c.output_size()));
  return f;
}

double call_flop(const Workload& w) {
  const auto T = static_cast<double>(w.T), B = static_cast<double>(w.B), H = static_cast<double>(w.stack.hidden_size);
  switch (w.row.mode) {
    case Mode::Forward:
    case Mode::Step: return T * B * stack_step_flop(w.stack);
    case Mode::Windows: return T * B * stack_step_flop(w.stack) + B * 2.0 * H * static_cast<double>(w.P);
    case Mode::Reconstruct:
      return T * B * stack_step_flop(w.stack) + (T - 1) * B * stack_step_flop(w.decoder) +
             T * B * 2.0 * H * static_cast<double>(w.I);
  }
  return 0;
}

void set_outputs(Workload& w) {
  const int64_t L = w.stack.num_layers, H = w.stack.hidden_size;
  w.outputs.clear();
  switch (w.row.mode) {
    case Mode::Forward:
    case Mode::Step:
      w.outputs.push_back({"output", {w.T, w.B, H}, true});
      w.outputs.push_back({"h_n", {L, w.B, H}, false});
      if (w.stack.mode == CellType::Lstm) w.outputs.push_back({"c_n", {L, w.B, H}, false});
      break;
    case Mode::Windows: w.outputs.push_back({"prediction", {1, w.B, w.P}, false}); break;
    case Mode::Reconstruct: w.outputs.push_back({"reconstruction", {w.T, w.B, w.I}, false}); break;
  }
  w.flop = call_flop(w);
}

// dst[a, j, :] = src[a, columns[j], :] for a < rows; src is [*, B, F].
std::vector<float> take_columns(const std::vector<float>& src, int64_t rows, int64_t B, int64_t F,
                                const std::vector<int64_t>& columns) {
  const auto k = static_cast<int64_t>(columns.size());
  std::vector<float> dst = sized(rows * k * F);
  for (int64_t a = 0; a < rows; ++a)
    for (int64_t j = 0; j < k; ++j)
      std::copy_n(src.begin() + (a * B + columns[static_cast<std::size_t>(j)]) * F, F, dst.begin() + (a * k + j) * F);
  return dst;
}

}  // namespace

std::size_t elements(const OutputSpec& spec) {
  return static_cast<std::size_t>(spec.shape[0] * spec.shape[1] * spec.shape[2]);
}

Workload make_workload(const Row& row, std::uint32_t seed) {
  Workload w;
  w.row = row;
  const std::string json = config_json(row);
  const ModelConfig mc = parse_model_config(json, "rnnad_bench row " + row.id);
  Rng rng{seed};
  test::WeightMap weights;
  for (const auto& [name, shape] : expected_weight_tensors(mc)) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    auto& v = weights[name] = sized(n);
    fill_uniform(v, rng, 1.0 / std::sqrt(static_cast<double>(row.hidden)));
    if (row.bf16)
      for (float& x : v) x = bf16_bits_to_float(float_to_bf16_bits(x));
  }
  w.model = Model::parse(test::build_model(json, weights), "rnnad_bench row " + row.id);
  weights.clear();
  const ModelConfig& c = w.model->config();
  w.stack = c.model_kind == ModelKind::Rnn          ? c.rnn
            : c.model_kind == ModelKind::Prediction ? c.prediction.rnn()
                                                    : c.reconstruction.encoder();
  if (c.model_kind == ModelKind::Reconstruction) w.decoder = c.reconstruction.decoder();
  w.T = row.seq_len;
  w.B = row.batch;
  w.I = row.input;
  Rng data{seed + 1};
  if (row.mode == Mode::Windows) {
    w.P = c.prediction.prediction_size();
    w.series_rows = w.B + w.T - 1;  // B windows at stride 1
    w.input = sized(w.series_rows * w.I);
  } else {
    w.input = sized(w.T * w.B * w.I);
  }
  fill_normal(w.input, data, 1.0);
  if (row.mode == Mode::Step) {
    const int64_t n = w.stack.num_layers * w.B * w.stack.hidden_size;
    w.h0 = sized(n);
    fill_normal(w.h0, data, 0.5);
    if (w.stack.mode == CellType::Lstm) {
      w.c0 = sized(n);
      fill_normal(w.c0, data, 0.5);
    }
  }
  set_outputs(w);
  return w;
}

Workload subset(const Workload& w, const std::vector<int64_t>& columns, int64_t steps) {
  Workload s;
  s.row = w.row;
  s.model = w.model;
  s.stack = w.stack;
  s.decoder = w.decoder;
  s.B = static_cast<int64_t>(columns.size());
  s.row.batch = s.B;
  s.I = w.I;
  s.P = w.P;
  s.T = w.row.mode == Mode::Forward ? steps : w.T;
  s.row.seq_len = s.T;
  if (w.row.mode == Mode::Windows) {
    // Window b covers series rows [b * stride, b * stride + T): lay the chosen ones end to end.
    s.stride = w.T;
    s.series_rows = s.B * w.T;
    s.input = sized(s.series_rows * w.I);
    for (int64_t j = 0; j < s.B; ++j)
      std::copy_n(w.input.begin() + columns[static_cast<std::size_t>(j)] * w.stride * w.I, w.T * w.I,
                  s.input.begin() + j * w.T * w.I);
  } else {
    s.input = take_columns(w.input, s.T, w.B, w.I, columns);
  }
  const int64_t L = w.stack.num_layers, H = w.stack.hidden_size;
  if (!w.h0.empty()) s.h0 = take_columns(w.h0, L, w.B, H, columns);
  if (!w.c0.empty()) s.c0 = take_columns(w.c0, L, w.B, H, columns);
  set_outputs(s);
  return s;
}

}  // namespace rnnad::bench
