// rnnad::validate: engine vs a PyTorch float64 reference (docs/model_format.md §4).
#include "rnnad/validate.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "json_strict.h"
#include "rnnad/error.h"
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

void compare(ValidationReport& r, const char* name, const std::vector<float>& got, const std::vector<double>& want) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(static_cast<double>(got[i]) - want[i]);
    if (!std::isfinite(got[i])) r.all_finite = false;
    const double ratio = std::isfinite(err) ? err / tolerance::fp32_bound(want[i]) : INFINITY;
    r.max_abs_error = std::max(r.max_abs_error, err);
    if (ratio > r.worst_ratio || r.worst_tensor.empty()) {
      r.worst_ratio = ratio;
      r.worst_abs_error = err;
      r.worst_tensor = name;
      r.worst_index = static_cast<int64_t>(i);
      r.worst_value = got[i];
      r.worst_expected = want[i];
    }
  }
  r.elements += static_cast<int64_t>(got.size());
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
    if (k != "format_version" && k != "description" && k != "producer")
      throw FormatError(src + ": rnnad.reference field \"" + k + "\" is not part of format version 1");
    if (k != "format_version" && !v.is_string())
      throw FormatError(src + ": rnnad.reference field \"" + k + "\" must be a string");
  }
  r.description = j.value("description", std::string());

  const RnnConfig& c = model->config().rnn;
  const bool lstm = c.mode == CellType::Lstm;
  const int64_t LD = c.num_layers * c.num_directions(), H = c.hidden_size, H_out = c.output_size();
  for (const auto& e : ref.tensors()) {
    const bool known = e.name == "input" || e.name == "h0" || e.name == "output" || e.name == "h_n" ||
                       (lstm && (e.name == "c0" || e.name == "c_n"));
    if (!known) throw FormatError(src + ": unexpected tensor \"" + e.name + "\" for a " + cell_type_name(c.mode) + " model");
  }
  auto need = [&](const char* name) -> const TensorEntry& {
    const TensorEntry* e = ref.find(name);
    if (!e) throw FormatError(src + ": missing tensor \"" + std::string(name) + "\"");
    return *e;
  };
  const TensorEntry& in = need("input");
  const auto in_shape = shape3_of(in, src);
  const int64_t T = in_shape[0], B = in_shape[1];
  expect(ref, in, {T, B, c.input_size}, DType::F32);
  expect(ref, need("output"), {T, B, c.num_directions() * H_out}, DType::F64);
  expect(ref, need("h_n"), {LD, B, H_out}, DType::F64);
  if (lstm) expect(ref, need("c_n"), {LD, B, H}, DType::F64);
  const TensorEntry* h0e = ref.find("h0");
  const TensorEntry* c0e = ref.find("c0");
  if (h0e) expect(ref, *h0e, {LD, B, H_out}, DType::F32);
  if (c0e) expect(ref, *c0e, {LD, B, H}, DType::F32);
  r.seq_len = T;
  r.batch = B;

  const std::vector<float> x = ref.to_f32(in);
  const std::vector<float> h0 = h0e ? ref.to_f32(*h0e) : std::vector<float>();
  const std::vector<float> c0 = c0e ? ref.to_f32(*c0e) : std::vector<float>();
  std::vector<float> out(static_cast<std::size_t>(T * B * c.num_directions() * H_out));
  std::vector<float> h_n(static_cast<std::size_t>(LD * B * H_out));
  std::vector<float> c_n(lstm ? static_cast<std::size_t>(LD * B * H) : 0);

  Engine engine(model, EngineOptions{device, 0, B, T});
  r.device = engine.backend_name();
  const auto t0 = std::chrono::steady_clock::now();
  engine.forward({x.data(), {T, B, c.input_size}}, {h0e ? h0.data() : nullptr, {LD, B, H_out}},
                 {c0e ? c0.data() : nullptr, {LD, B, H}}, {out.data(), {T, B, c.num_directions() * H_out}},
                 {h_n.data(), {LD, B, H_out}}, {lstm ? c_n.data() : nullptr, {LD, B, H}});
  r.forward_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  compare(r, "output", out, ref.to_f64(need("output")));
  compare(r, "h_n", h_n, ref.to_f64(need("h_n")));
  if (lstm) compare(r, "c_n", c_n, ref.to_f64(need("c_n")));
  r.passed = r.all_finite && r.worst_ratio <= 1.0;
  return r;
}

}  // namespace rnnad
