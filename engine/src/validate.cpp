// rnnad::validate: engine vs a PyTorch float64 reference (docs/model_format.md §4).
#include "rnnad/validate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "json_strict.h"
#include "rnnad/error.h"
#include "rnnad/scoring.h"
#include "rnnad/tolerance.h"

namespace rnnad {

namespace {

std::array<int64_t, 3> shape3_of(const TensorEntry& e, const std::string& src) {
  if (e.shape.size() != 3)
    throw FormatError(src + ": tensor \"" + e.name + "\" has rank " + std::to_string(e.shape.size()) + ", expected 3");
  return {e.shape[0], e.shape[1], e.shape[2]};
}

void expect(const SafetensorsFile& f, const TensorEntry& e, std::array<int64_t, 3> want, DType dtype) {
  if (e.dtype != dtype)
    throw FormatError(f.source() + ": tensor \"" + e.name + "\" has dtype " + dtype_name(e.dtype) + ", expected " +
                      dtype_name(dtype));
  if (shape3_of(e, f.source()) != want)
    throw FormatError(f.source() + ": tensor \"" + e.name + "\" has shape " + shape_string(e.shape) +
                      ", the model requires " + shape_string({want[0], want[1], want[2]}));
}

// Compares engine values with reference values under `bound(reference)`. A NaN is accepted only
// where the reference has NaN too ("no score" rows); any other non-finite value fails.
template <typename T, typename Bound>
void compare(ValidationReport& r, const char* name, const std::vector<T>& got, const std::vector<double>& want,
             Bound bound) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double a = static_cast<double>(got[i]), b = want[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    if (!std::isfinite(a)) r.all_finite = false;
    const double err = std::abs(a - b);
    const double ratio = std::isfinite(err) ? err / bound(b) : INFINITY;
    if (std::isfinite(err)) r.max_abs_error = std::max(r.max_abs_error, err);
    if (ratio > r.worst_ratio || r.worst_tensor.empty()) {
      r.worst_ratio = ratio;
      r.worst_abs_error = err;
      r.worst_tensor = name;
      r.worst_index = static_cast<int64_t>(i);
      r.worst_value = a;
      r.worst_expected = b;
    }
  }
  r.elements += static_cast<int64_t>(got.size());
}

void compare(ValidationReport& r, const char* name, const std::vector<float>& got, const std::vector<double>& want) {
  compare(r, name, got, want, [](double b) { return tolerance::fp32_bound(b); });
}

// Scores of a whole series (docs/scoring.md) against `scores` and `contributions` computed by
// tools/python/train.py; tolerance::kScore relative to max(|b|, median |reference scores|).
void validate_scores(ValidationReport& r, std::shared_ptr<const Model> model, const SafetensorsFile& ref,
                     Device device) {
  const std::string& src = ref.source();
  auto need = [&](const char* name) -> const TensorEntry& {
    const TensorEntry* e = ref.find(name);
    if (!e) throw FormatError(src + ": missing tensor \"" + std::string(name) + "\"");
    if (e->dtype != DType::F64) throw FormatError(src + ": tensor \"" + std::string(name) + "\" must be F64");
    return *e;
  };
  for (const auto& e : ref.tensors())
    if (e.name != "series" && e.name != "scores" && e.name != "contributions")
      throw FormatError(src + ": unexpected tensor \"" + e.name + "\" in a score reference");
  const TensorEntry& series = need("series");
  const int64_t F = model->config().input_size();
  if (series.shape.size() != 2 || series.shape[1] != F)
    throw FormatError(src + ": tensor \"series\" has shape " + shape_string(series.shape) + ", the model needs [rows, " +
                      std::to_string(F) + "]");
  const int64_t N = series.shape[0];
  Scorer scorer(model, 64, device);
  const std::vector<double> raw = ref.to_f64(series);
  const auto t0 = std::chrono::steady_clock::now();
  const SeriesScores s = scorer.score(raw.data(), N);
  r.forward_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  r.device = scorer.engine().backend_name();
  r.seq_len = N;
  r.batch = 1;
  const TensorEntry& scores = need("scores");
  const TensorEntry& contributions = need("contributions");
  if (scores.shape != std::vector<int64_t>{N})
    throw FormatError(src + ": tensor \"scores\" has shape " + shape_string(scores.shape) + ", expected [" + std::to_string(N) + "]");
  if (contributions.shape != std::vector<int64_t>{N, s.features})
    throw FormatError(src + ": tensor \"contributions\" has shape " + shape_string(contributions.shape) + ", expected [" +
                      std::to_string(N) + ", " + std::to_string(s.features) + "]");
  const std::vector<double> want = ref.to_f64(scores, true);
  std::vector<double> mags;
  for (double v : want)
    if (!std::isnan(v)) mags.push_back(std::abs(v));
  double median = 0.0;
  if (!mags.empty()) {
    std::nth_element(mags.begin(), mags.begin() + static_cast<std::ptrdiff_t>(mags.size() / 2), mags.end());
    median = mags[mags.size() / 2];
  }
  auto bound = [median](double b) { return tolerance::kScore * std::max({std::abs(b), median, 1e-300}); };
  compare(r, "scores", s.scores, want, bound);
  compare(r, "contributions", s.contributions, ref.to_f64(contributions, true), bound);
  r.passed = r.all_finite && r.worst_ratio <= 1.0;
}

}  // namespace

std::filesystem::path default_reference_path(const std::filesystem::path& model_path) {
  std::filesystem::path p = model_path;
  p.replace_extension();
  return p.string() + ".reference.safetensors";
}

std::string ValidationReport::summary() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s: %lld values (seq_len %lld, batch %lld) on %s, worst |err| %.3g (%.1f%% of tolerance) at %s[%lld] "
                "= %.9g vs %.9g, max |err| %.3g, forward %.3f ms",
                passed ? "PASS" : "FAIL", static_cast<long long>(elements), static_cast<long long>(seq_len),
                static_cast<long long>(batch), device.c_str(), worst_abs_error, 100.0 * worst_ratio,
                worst_tensor.c_str(), static_cast<long long>(worst_index), worst_value, worst_expected, max_abs_error,
                forward_ms);
  return buf;
}

ValidationReport validate(std::shared_ptr<const Model> model, const std::filesystem::path& reference_path,
                          Device device) {
  const SafetensorsFile ref = SafetensorsFile::read(reference_path);
  const std::string& src = ref.source();
  ValidationReport r;
  auto meta = ref.metadata().find("rnnad.reference");
  if (meta == ref.metadata().end())
    throw FormatError(src + ": __metadata__ has no \"rnnad.reference\" entry (not an rnnad reference file)");
  const auto j = detail::parse_json_strict(meta->second, src, "__metadata__[\"rnnad.reference\"]");
  if (!j.is_object() || !j.contains("format_version") || !j["format_version"].is_number_integer())
    throw FormatError(src + ": rnnad.reference field \"format_version\" is missing or not an integer");
  if (j["format_version"].get<int64_t>() > kModelFormatVersion || j["format_version"].get<int64_t>() < 1)
    throw UnsupportedError(src + ": reference format version " + j["format_version"].dump() + " is not supported");
  for (const auto& [k, v] : j.items()) {
    if (k == "first_row") {
      if (!v.is_number_unsigned()) throw FormatError(src + ": rnnad.reference field \"first_row\" must be a row index");
      continue;
    }
    if (k != "format_version" && k != "description" && k != "producer")
      throw FormatError(src + ": rnnad.reference field \"" + k + "\" is not part of format version 1");
    if (k != "format_version" && !v.is_string())
      throw FormatError(src + ": rnnad.reference field \"" + k + "\" must be a string");
  }
  r.description = j.value("description", std::string());
  if (ref.find("series")) {
    validate_scores(r, model, ref, device);
    return r;
  }

  const ModelConfig& mc = model->config();
  auto need = [&](const char* name) -> const TensorEntry& {
    const TensorEntry* e = ref.find(name);
    if (!e) throw FormatError(src + ": missing tensor \"" + std::string(name) + "\"");
    return *e;
  };
  const TensorEntry& in = need("input");
  const auto in_shape = shape3_of(in, src);
  const int64_t T = in_shape[0], B = in_shape[1], I = mc.input_size();
  expect(ref, in, {T, B, I}, DType::F32);
  r.seq_len = T;
  r.batch = B;
  const std::vector<float> x = ref.to_f32(in);

  // The outputs this kind produces: name, shape, engine result. Inputs other than `input`
  // (h0, c0) are listed in `optional_inputs`.
  struct Output {
    const char* name;
    std::array<int64_t, 3> shape;
    std::vector<float> got;
  };
  std::vector<Output> outputs;
  std::vector<const char*> optional_inputs;
  auto add = [&](const char* name, std::array<int64_t, 3> shape) {
    expect(ref, need(name), shape, DType::F64);
    outputs.push_back({name, shape, std::vector<float>(static_cast<std::size_t>(shape[0] * shape[1] * shape[2]))});
    return outputs.back().got.data();
  };
  const int64_t max_seq = mc.model_kind == ModelKind::Prediction && mc.prediction.state == PredictionConfig::State::Stateful
                              ? std::min<int64_t>(T, 4096)
                              : T;
  Engine engine(model, EngineOptions{device, 0, B, max_seq});
  r.device = engine.backend_name();
  const auto t0 = std::chrono::steady_clock::now();
  switch (mc.model_kind) {
    case ModelKind::Rnn: {
      const RnnConfig& c = mc.rnn;
      const bool lstm = c.mode == CellType::Lstm;
      const int64_t LD = c.num_layers * c.num_directions(), H = c.hidden_size, H_out = c.output_size();
      optional_inputs = {"h0", "c0"};
      const TensorEntry* h0e = ref.find("h0");
      const TensorEntry* c0e = lstm ? ref.find("c0") : nullptr;
      if (h0e) expect(ref, *h0e, {LD, B, H_out}, DType::F32);
      if (c0e) expect(ref, *c0e, {LD, B, H}, DType::F32);
      const std::vector<float> h0 = h0e ? ref.to_f32(*h0e) : std::vector<float>();
      const std::vector<float> c0 = c0e ? ref.to_f32(*c0e) : std::vector<float>();
      float* out = add("output", {T, B, c.num_directions() * H_out});
      float* h_n = add("h_n", {LD, B, H_out});
      float* c_n = lstm ? add("c_n", {LD, B, H}) : nullptr;
      engine.forward({x.data(), {T, B, I}}, {h0e ? h0.data() : nullptr, {LD, B, H_out}},
                     {c0e ? c0.data() : nullptr, {LD, B, H}}, {out, {T, B, c.num_directions() * H_out}},
                     {h_n, {LD, B, H_out}}, {c_n, {LD, B, H}});
      break;
    }
    case ModelKind::Reconstruction:
    case ModelKind::Attention: {
      float* recon = add("reconstruction", {T, B, I});
      float* attn = mc.model_kind == ModelKind::Attention ? add("attention", {T, B, T}) : nullptr;
      engine.reconstruct({x.data(), {T, B, I}}, {recon, {T, B, I}}, {attn, {T, B, T}});
      break;
    }
    case ModelKind::Prediction: {
      const int64_t P = mc.prediction.prediction_size();
      if (mc.prediction.state == PredictionConfig::State::Windowed) {
        float* pred = add("prediction", {1, B, P});
        engine.predict({x.data(), {T, B, I}}, {pred, {1, B, P}});
      } else {
        float* pred = add("prediction", {T, B, P});
        engine.predict_stateful({x.data(), {T, B, I}}, {pred, {T, B, P}});
      }
      break;
    }
  }
  r.forward_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  for (const auto& e : ref.tensors()) {
    bool known = e.name == "input";
    for (const auto& o : outputs) known = known || e.name == o.name;
    for (const char* name : optional_inputs) known = known || e.name == name;
    if (!known)
      throw FormatError(src + ": unexpected tensor \"" + e.name + "\" for a " + mc.kind + " model (" +
                        config_summary(mc) + ")");
  }
  for (const auto& o : outputs) compare(r, o.name, o.got, ref.to_f64(need(o.name)));
  r.passed = r.all_finite && r.worst_ratio <= 1.0;
  return r;
}

}  // namespace rnnad
