// Fuzz test of the model loader (docs/model_format.md). Valid model files are built in memory, then
// mutated by class: truncation at every length, byte flips (anywhere, header, data), the header
// length, data_offsets, dtype, shape, non-finite weights, invalid UTF-8, deep nesting, duplicate
// keys, trailing bytes, missing/extra tensors, config edits, random JSON edits, very many entries.
// Every case goes through rnnad::Model::parse(bytes, "fuzz"): it must return a model or throw an
// rnnad::Error (anything else is a failure). Where the format guarantees the outcome it is checked:
// rejections must start with the source name, be one line and name the tensor or field; files that
// must load must load with exactly the expected weights. A model that loads runs one forward pass
// on the CPU engine, whose outputs must be finite for tanh/sigmoid cells with moderate weights.
// SafetensorsFile::parse is cross-checked against Model::parse. Deterministic (fixed seeds);
// prints a table of outcomes per class.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "model_builder.h"
#include "rnnad/engine.h"
#include "rnnad/error.h"
#include "rnnad/model.h"
#include "rnnad/safetensors.h"

namespace {

using rnnad::CellType;
using rnnad::RnnConfig;
using rnnad::test::WeightMap;
using Bytes = std::vector<unsigned char>;
using OJson = nlohmann::ordered_json;

const std::string kSource = "fuzz";
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

// ------------------------------------------------------------------------------------------------
// Deterministic random numbers (splitmix64: identical on every platform and standard library).

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); n > 0.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  /// Uniform in [lo, hi).
  float uniform(float lo, float hi) {
    return lo + (hi - lo) * static_cast<float>(next() >> 40) / static_cast<float>(std::uint32_t{1} << 24);
  }
  bool coin() { return (next() & 1u) != 0; }

 private:
  std::uint64_t m_state;
};

// ------------------------------------------------------------------------------------------------
// Container layout helpers (the layout of tests/support's build_safetensors).

std::uint64_t get_u64(const Bytes& f) {
  std::uint64_t v = 0;
  for (std::size_t i = 8; i-- > 0;) v = (v << 8) | f[i];
  return v;
}

void put_u64(Bytes& f, std::uint64_t v) {
  for (std::size_t i = 0; i < 8; ++i) f[i] = static_cast<unsigned char>(v >> (8 * i));
}

/// 8-byte length, header text (padded with spaces to a multiple of 8 unless `pad` is false), data.
Bytes assemble(std::string text, const Bytes& data, bool pad = true) {
  if (pad) text.append((8 - text.size() % 8) % 8, ' ');
  Bytes out(8);
  put_u64(out, text.size());
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

/// A valid file taken apart: its header as ordered JSON and its data buffer.
struct Split {
  OJson header;
  Bytes data;
};

Split split(const Bytes& f) {
  const std::size_t n = static_cast<std::size_t>(get_u64(f));
  Split s;
  s.header = OJson::parse(f.begin() + 8, f.begin() + 8 + n);
  s.data.assign(f.begin() + 8 + n, f.end());
  return s;
}

Bytes join(const Split& s) { return assemble(s.header.dump(), s.data); }

/// Where a tensor's bytes lie in the data buffer.
struct Pos {
  std::string name;
  std::size_t begin = 0, end = 0;
};

std::vector<Pos> positions(const OJson& header) {
  std::vector<Pos> out;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") continue;
    out.push_back({key, value.at("data_offsets").at(0).get<std::size_t>(), value.at("data_offsets").at(1).get<std::size_t>()});
  }
  return out;
}

/// A file as a list of tensors with their own bytes; compose() lays the data out contiguously
/// in list order and writes matching data_offsets, so entries can be added, removed or re-typed.
struct Entry {
  std::string name;
  OJson dtype;
  OJson shape;
  Bytes bytes;
};

struct Doc {
  bool has_metadata = false;
  OJson metadata;
  std::vector<Entry> tensors;
};

Doc decompose(const Bytes& f) {
  const Split s = split(f);
  Doc d;
  for (const auto& [key, value] : s.header.items()) {
    if (key == "__metadata__") {
      d.has_metadata = true;
      d.metadata = value;
      continue;
    }
    const auto b = value.at("data_offsets").at(0).get<std::size_t>();
    const auto e = value.at("data_offsets").at(1).get<std::size_t>();
    d.tensors.push_back({key, value.at("dtype"), value.at("shape"), Bytes(s.data.begin() + b, s.data.begin() + e)});
  }
  return d;
}

Split to_split(const Doc& d) {
  Split s;
  s.header = OJson::object();
  if (d.has_metadata) s.header["__metadata__"] = d.metadata;
  std::size_t offset = 0;
  for (const auto& t : d.tensors) {
    OJson entry = OJson::object();
    entry["dtype"] = t.dtype;
    entry["shape"] = t.shape;
    entry["data_offsets"] = OJson::array({offset, offset + t.bytes.size()});
    s.header[t.name] = entry;
    offset += t.bytes.size();
    s.data.insert(s.data.end(), t.bytes.begin(), t.bytes.end());
  }
  return s;
}

Bytes compose(const Doc& d, bool pad = true) {
  const Split s = to_split(d);
  return assemble(s.header.dump(), s.data, pad);
}

Entry* find_entry(Doc& d, const std::string& name) {
  for (auto& t : d.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

OJson config_of(const Doc& d) { return OJson::parse(d.metadata.at("rnnad.config").get<std::string>()); }
void set_config_text(Doc& d, const std::string& text) { d.metadata["rnnad.config"] = text; }

/// `s` as a JSON string literal: how a name appears, quoted, in a loader message.
std::string json_quoted(const std::string& s) { return OJson(s).dump(); }

/// Inserts `what` right after the first occurrence of `anchor` in `text` (which must contain it).
std::string insert_after(std::string text, const std::string& anchor, const std::string& what) {
  const auto at = text.find(anchor);
  REQUIRE(at != std::string::npos);
  text.insert(at + anchor.size(), what);
  return text;
}

/// Replaces the first occurrence of `from` in `text` (which must contain it).
std::string replace_first(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

// Float <-> bytes and half encodings.
float f32_at(const unsigned char* p) {
  std::uint32_t bits = 0;
  for (std::size_t b = 4; b-- > 0;) bits = (bits << 8) | p[b];
  return std::bit_cast<float>(bits);
}

void put_f32_bits(unsigned char* p, std::uint32_t bits) {
  for (std::size_t b = 0; b < 4; ++b) p[b] = static_cast<unsigned char>(bits >> (8 * b));
}

/// IEEE binary16 bits of `v`, which must be zero or a normal half exactly (k / 1024, |k| <= 1024 is).
std::uint16_t half_bits_exact(float v) {
  if (v == 0.0f) return std::signbit(v) ? std::uint16_t{0x8000} : std::uint16_t{0};
  const std::uint32_t sign = v < 0 ? 0x8000u : 0u;
  int e = 0;
  const float m = std::frexp(std::fabs(v), &e);  // |v| = m * 2^e, m in [0.5, 1)
  const auto frac = static_cast<std::uint32_t>((m * 2.0f - 1.0f) * 1024.0f);
  const auto biased = static_cast<std::uint32_t>(e - 1 + 15);
  return static_cast<std::uint16_t>(sign | (biased << 10) | frac);
}

Bytes u16_bytes(const std::vector<std::uint16_t>& v) {
  Bytes out;
  for (auto h : v) {
    out.push_back(static_cast<unsigned char>(h & 0xffu));
    out.push_back(static_cast<unsigned char>(h >> 8));
  }
  return out;
}

Bytes f64_bytes(const std::vector<float>& v) {
  Bytes out;
  for (float x : v) {
    const auto bits = std::bit_cast<std::uint64_t>(static_cast<double>(x));
    for (std::size_t b = 0; b < 8; ++b) out.push_back(static_cast<unsigned char>(bits >> (8 * b)));
  }
  return out;
}

std::vector<float> f32_values(const Bytes& bytes) {
  std::vector<float> v(bytes.size() / 4);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = f32_at(bytes.data() + 4 * i);
  return v;
}

std::string deep_array(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }
std::string deep_object(std::size_t depth) {
  std::string s;
  for (std::size_t i = 1; i < depth; ++i) s += "{\"a\":";
  s += "{}";
  s.append(depth - 1, '}');
  return s;
}

// ------------------------------------------------------------------------------------------------
// The valid starting points.

struct Base {
  std::string label;
  RnnConfig cfg;
  WeightMap weights;
  Bytes bytes;
  std::size_t data_start = 0;
  std::vector<Pos> pos;                 // tensors in file order
  std::set<std::string> expected_names;
};

Base make_base(std::string label, CellType mode, int64_t layers, bool bidirectional, bool bias, int64_t proj,
               std::string prefix, std::uint32_t seed) {
  Base b;
  b.label = std::move(label);
  b.cfg.mode = mode;
  b.cfg.input_size = 3;
  b.cfg.hidden_size = 4;
  b.cfg.num_layers = layers;
  b.cfg.bidirectional = bidirectional;
  b.cfg.bias = bias;
  b.cfg.proj_size = proj;
  b.cfg.prefix = std::move(prefix);
  b.weights = rnnad::test::random_rnn_weights(b.cfg, seed, 0.5f);
  b.bytes = rnnad::test::build_rnn_model(b.cfg, b.weights);
  b.data_start = static_cast<std::size_t>(8 + get_u64(b.bytes));
  b.pos = positions(split(b.bytes).header);
  for (const auto& [name, shape] : rnnad::expected_rnn_tensors(b.cfg)) b.expected_names.insert(name);
  return b;
}

std::vector<Base> make_bases() {
  std::vector<Base> bases;
  bases.push_back(make_base("lstm_bi2_proj", CellType::Lstm, 2, true, true, 2, "", 101));
  bases.push_back(make_base("gru_l2_prefix", CellType::Gru, 2, false, true, 0, "encoder.", 102));
  bases.push_back(make_base("rnn_tanh_bi_nobias", CellType::RnnTanh, 1, true, false, 0, "", 103));
  bases.push_back(make_base("rnn_relu_l2", CellType::RnnRelu, 2, false, true, 0, "", 104));
  bases.push_back(make_base("lstm_l1", CellType::Lstm, 1, false, true, 0, "m.", 105));
  return bases;
}

/// At most `count` of the base's tensors, evenly spaced in file order (first and last included):
/// the per-tensor classes use these to keep the run short.
std::vector<Pos> sampled(const Base& b, std::size_t count = 8) {
  if (b.pos.size() <= count) return b.pos;
  std::vector<Pos> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(b.pos[i * (b.pos.size() - 1) / (count - 1)]);
  return out;
}

/// The F32 weights a file with `base`'s layout holds (data-only mutations keep the layout).
WeightMap decode_weights(const Base& base, const Bytes& f) {
  WeightMap w;
  for (const auto& p : base.pos)
    w[p.name] = f32_values(Bytes(f.begin() + base.data_start + p.begin, f.begin() + base.data_start + p.end));
  return w;
}

bool all_finite(const WeightMap& w) {
  for (const auto& [name, v] : w)
    for (float x : v)
      if (!std::isfinite(x)) return false;
  return true;
}

// ------------------------------------------------------------------------------------------------
// Expectations, outcomes and the case runner.

enum class Expect { Any, Load, Reject, RejectUnsupported };

struct Want {
  Expect expect = Expect::Any;
  std::vector<std::string> mention;      ///< a rejection message must contain each of these
  std::vector<std::string> not_mention;  ///< ... and none of these
  const WeightMap* weights = nullptr;    ///< exact weights a successful load must produce
};

Want any() { return {}; }
Want load(const WeightMap* w = nullptr) { return {Expect::Load, {}, {}, w}; }
Want reject(std::vector<std::string> mention = {}) { return {Expect::Reject, std::move(mention), {}, nullptr}; }
Want unsupported(std::vector<std::string> mention = {}) {
  return {Expect::RejectUnsupported, std::move(mention), {}, nullptr};
}

struct Stats {
  std::size_t cases = 0, loaded = 0, format = 0, unsupported = 0, other = 0, foreign = 0, forward = 0,
              nonfinite = 0, failed = 0;
  double seconds = 0;
};

class Fuzzer {
 public:
  void run(const std::string& cls, const Bytes& bytes, const Want& want, const std::string& note);
  void print(std::ostream& os) const;
  Stats total() const;
  std::size_t failures() const { return m_failures; }

 private:
  void fail(const std::string& cls, const std::string& note, const std::string& what);
  void check_container(const std::string& cls, const std::string& note, const rnnad::SafetensorsFile& file,
                       std::size_t file_size);
  void forward(const std::string& cls, const std::string& note, const std::shared_ptr<const rnnad::Model>& model,
               Stats& st);

  std::vector<std::string> m_order;
  std::map<std::string, Stats> m_stats;
  std::size_t m_case = 0, m_failures = 0;
  Rng m_rng{0x5EED0F0A11u};
};

void Fuzzer::fail(const std::string& cls, const std::string& note, const std::string& what) {
  ++m_failures;
  // Only the first few failures of each class are reported in full (the table counts them all).
  if (++m_stats[cls].failed <= 4) FAIL_CHECK("class " << cls << ", case #" << m_case << " (" << note << "): " << what);
}

void Fuzzer::check_container(const std::string& cls, const std::string& note, const rnnad::SafetensorsFile& file,
                             std::size_t file_size) {
  std::size_t expected = 0;
  for (const auto& e : file.tensors()) {
    std::uint64_t numel = 1;
    bool ok = true;
    for (auto d : e.shape) {
      if (d < 0) ok = false;
      numel *= static_cast<std::uint64_t>(d);
    }
    const std::size_t width = e.dtype == rnnad::DType::F64 ? 8 : e.dtype == rnnad::DType::F32 ? 4 : 2;
    if (!ok) fail(cls, note, "container accepted tensor " + json_quoted(e.name) + " with a negative dimension " +
                               rnnad::shape_string(e.shape));
    else if (numel != static_cast<std::uint64_t>(e.numel) || e.nbytes != static_cast<std::size_t>(e.numel) * width)
      fail(cls, note, "container entry " + json_quoted(e.name) + ": numel/nbytes do not match shape and dtype");
    if (e.offset != expected) fail(cls, note, "container entry " + json_quoted(e.name) + " is not contiguous");
    expected = e.offset + e.nbytes;
  }
  if (expected > file_size) fail(cls, note, "container tensors extend past the file");
}

void Fuzzer::forward(const std::string& cls, const std::string& note, const std::shared_ptr<const rnnad::Model>& model,
                     Stats& st) {
  const RnnConfig& c = model->config().rnn;
  constexpr int64_t T = 3, B = 2;
  const int64_t D = c.num_directions(), LD = c.num_layers * D, H = c.hidden_size, Ho = c.output_size(),
                I = c.input_size;
  const bool lstm = c.mode == CellType::Lstm;
  auto random_vec = [&](int64_t n, float lo, float hi) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = m_rng.uniform(lo, hi);
    return v;
  };
  const auto input = random_vec(T * B * I, -1.0f, 1.0f);
  const auto h0 = random_vec(LD * B * Ho, -0.5f, 0.5f);
  const auto c0 = lstm ? random_vec(LD * B * H, -0.5f, 0.5f) : std::vector<float>{};
  const float nan = std::numeric_limits<float>::quiet_NaN();  // sentinel: unwritten outputs count as non-finite
  std::vector<float> out(static_cast<std::size_t>(T * B * D * Ho), nan), hn(static_cast<std::size_t>(LD * B * Ho), nan),
      cn(lstm ? static_cast<std::size_t>(LD * B * H) : 0u, nan);
  try {
    rnnad::Engine engine(model, rnnad::EngineOptions{rnnad::Device::Cpu, 0, B, T});
    engine.forward(rnnad::ConstTensor3{input.data(), {T, B, I}}, rnnad::ConstTensor3{h0.data(), {LD, B, Ho}},
                   lstm ? rnnad::ConstTensor3{c0.data(), {LD, B, H}} : rnnad::ConstTensor3{},
                   rnnad::Tensor3{out.data(), {T, B, D * Ho}}, rnnad::Tensor3{hn.data(), {LD, B, Ho}},
                   lstm ? rnnad::Tensor3{cn.data(), {LD, B, H}} : rnnad::Tensor3{});
  } catch (const std::exception& e) {
    fail(cls, note, std::string("forward pass of a loaded model threw: ") + e.what());
    return;
  }
  ++st.forward;
  std::size_t bad = 0;
  for (const auto* v : {&out, &hn, &cn})
    for (float x : *v) bad += std::isfinite(x) ? 0u : 1u;
  if (bad == 0) return;
  ++st.nonfinite;
  // tanh/sigmoid cells keep every state bounded (|h| <= 1, |c| <= |c0| + T); only the products with
  // the weights (and weight_hr) grow, so with |w| <= 1e15 every intermediate is far below FLT_MAX.
  // Larger (bit-flipped) weights may legitimately overflow; RNN_RELU may overflow with any weights.
  float max_abs = 0.0f;
  for (const auto& [name, w] : model->weights())
    for (float x : w.values) max_abs = std::max(max_abs, std::fabs(x));
  if (c.mode != CellType::RnnRelu && max_abs <= 1e15f)
    fail(cls, note, std::to_string(bad) + " non-finite forward outputs with weights bounded by " + std::to_string(max_abs));
}

void Fuzzer::run(const std::string& cls, const Bytes& bytes, const Want& want, const std::string& note) {
  ++m_case;
  if (!m_stats.count(cls)) m_order.push_back(cls);
  Stats& st = m_stats[cls];
  ++st.cases;
  struct Timer {  // adds the case's wall time to its class
    double& total;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~Timer() { total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
  } timer{st.seconds};

  enum class Kind { Loaded, Format, Unsupported, Other, Foreign } kind = Kind::Foreign;
  std::shared_ptr<const rnnad::Model> model;
  std::string msg;
  try {
    model = rnnad::Model::parse(bytes, kSource);
    kind = Kind::Loaded;
  } catch (const rnnad::FormatError& e) {
    kind = Kind::Format;
    msg = e.what();
  } catch (const rnnad::UnsupportedError& e) {
    kind = Kind::Unsupported;
    msg = e.what();
  } catch (const rnnad::Error& e) {
    kind = Kind::Other;
    msg = e.what();
  } catch (const std::exception& e) {
    msg = std::string("non-rnnad exception: ") + e.what();
  } catch (...) {
    msg = "non-std exception";
  }
  switch (kind) {
    case Kind::Loaded: ++st.loaded; break;
    case Kind::Format: ++st.format; break;
    case Kind::Unsupported: ++st.unsupported; break;
    case Kind::Other: ++st.other; break;
    case Kind::Foreign: ++st.foreign; fail(cls, note, "Model::parse threw a " + msg); return;
  }
  const bool rejected = kind != Kind::Loaded;

  // The container alone, whenever Model::parse got past it (loaded, or rejected for a reason that
  // is not one of the container's own messages): invariants of what it accepts, and what it
  // rejects Model::parse must reject with the same message.
  std::optional<std::string> container_error;
  if (!rejected || msg.find("(not a valid safetensors file") == std::string::npos) {
    try {
      const auto file = rnnad::SafetensorsFile::parse(bytes, kSource);
      check_container(cls, note, file, bytes.size());
    } catch (const rnnad::Error& e) {
      container_error = e.what();
    } catch (const std::exception& e) {
      fail(cls, note, std::string("SafetensorsFile::parse threw a non-rnnad exception: ") + e.what());
    } catch (...) {
      fail(cls, note, "SafetensorsFile::parse threw a non-std exception");
    }
  }

  if (container_error && (!rejected || msg != *container_error))
    fail(cls, note, "SafetensorsFile::parse rejected with \"" + *container_error + "\" but Model::parse " +
                        (rejected ? "with \"" + msg + "\"" : std::string("loaded")));
  if (want.expect == Expect::Load && rejected) fail(cls, note, "expected to load, rejected: " + msg);
  if ((want.expect == Expect::Reject || want.expect == Expect::RejectUnsupported) && !rejected)
    fail(cls, note, "expected a rejection, but the file loaded");
  if (want.expect == Expect::RejectUnsupported && rejected && kind != Kind::Unsupported)
    fail(cls, note, "expected UnsupportedError, got: " + msg);

  if (rejected) {
    if (msg.rfind(kSource + ": ", 0) != 0) fail(cls, note, "message does not start with the source name: " + msg);
    if (msg.find_first_of("\r\n") != std::string::npos) fail(cls, note, "message is not one line: " + msg);
    if (want.expect != Expect::Load) {
      for (const auto& m : want.mention)
        if (msg.find(m) == std::string::npos) fail(cls, note, "message does not mention " + m + ": " + msg);
      for (const auto& m : want.not_mention)
        if (msg.find(m) != std::string::npos) fail(cls, note, "message mentions " + m + ": " + msg);
    }
    return;
  }

  if (want.weights) {
    for (const auto& [name, values] : *want.weights) {
      const auto it = model->weights().find(name);
      if (it == model->weights().end()) fail(cls, note, "loaded model lacks tensor " + json_quoted(name));
      else if (it->second.values != values) fail(cls, note, "loaded weights of " + json_quoted(name) + " differ");
    }
    if (model->weights().size() != want.weights->size()) fail(cls, note, "loaded model has a different tensor count");
  }
  if (model->config().model_kind == rnnad::ModelKind::Rnn) forward(cls, note, model, st);
}

Stats Fuzzer::total() const {
  Stats t;
  for (const auto& [cls, s] : m_stats) {
    t.cases += s.cases;
    t.loaded += s.loaded;
    t.format += s.format;
    t.unsupported += s.unsupported;
    t.other += s.other;
    t.foreign += s.foreign;
    t.forward += s.forward;
    t.nonfinite += s.nonfinite;
    t.failed += s.failed;
    t.seconds += s.seconds;
  }
  return t;
}

void Fuzzer::print(std::ostream& os) const {
  auto row = [&os](const std::string& name, const Stats& s) {
    os << std::left << std::setw(22) << name << std::right << std::setw(7) << s.cases << std::setw(8) << s.loaded
       << std::setw(9) << s.format << std::setw(9) << s.unsupported << std::setw(7) << s.other << std::setw(9)
       << s.foreign << std::setw(9) << s.forward << std::setw(10) << s.nonfinite << std::setw(8) << s.failed << std::setw(8) << std::fixed
       << std::setprecision(2) << s.seconds << '\n';
  };
  os << "\nrnnad loader fuzz: outcomes per mutation class\n"
     << std::left << std::setw(22) << "class" << std::right << std::setw(7) << "cases" << std::setw(8) << "loaded"
     << std::setw(9) << "FormatE" << std::setw(9) << "Unsupp" << std::setw(7) << "other" << std::setw(9)
     << "foreign" << std::setw(9) << "forward" << std::setw(10) << "nonfinite" << std::setw(8) << "FAILED"
     << std::setw(8) << "sec" << '\n';
  for (const auto& cls : m_order) row(cls, m_stats.at(cls));
  row("TOTAL", total());
  os << "(FormatE = rejected with rnnad::FormatError, Unsupp = rnnad::UnsupportedError, other = another "
        "rnnad::Error, foreign = any other exception (a failure), forward = forward passes run on loaded models, "
        "nonfinite = forward passes with a non-finite output, FAILED = checks failed)\n";
}

// ------------------------------------------------------------------------------------------------
// Mutation classes.

void gen_baseline(Fuzzer& fz, const std::vector<Base>& bases) {
  for (const auto& b : bases) {
    REQUIRE(compose(decompose(b.bytes)) == b.bytes);  // the helpers reproduce the builder's layout
    fz.run("baseline", b.bytes, load(&b.weights), b.label);
  }
}

// Files that differ from the builder's output but are valid: they must load with the same weights.
void gen_valid_variants(Fuzzer& fz, const std::vector<Base>& bases, Rng& rng) {
  for (const auto& b : bases) {
    const Doc doc = decompose(b.bytes);
    const std::string n = b.label + ": ";
    fz.run("valid_variant", compose(doc, false), load(&b.weights), n + "unpadded header");
    {
      const Split s = to_split(doc);
      fz.run("valid_variant", assemble(s.header.dump() + " \t\r\n       ", s.data, false), load(&b.weights),
             n + "whitespace padding");
      fz.run("valid_variant", assemble(" \n" + s.header.dump(4), s.data), load(&b.weights), n + "pretty header");
    }
    {
      Doc d = doc;
      d.metadata["format"] = "pt";
      d.metadata["note"] = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 [[[{{{ \" \\";  // valid UTF-8, brackets in strings
      d.metadata["deep_in_string"] = std::string(100000, '[');
      d.metadata["weight_ih_l0"] = "same key as a tensor, other object";
      d.metadata["dtype"] = "F32";
      fz.run("valid_variant", compose(d), load(&b.weights), n + "extra metadata keys");
    }
    {
      const Split s = to_split(doc);
      OJson h = OJson::object();  // metadata last
      for (const auto& [k, v] : s.header.items())
        if (k != "__metadata__") h[k] = v;
      h["__metadata__"] = s.header.at("__metadata__");
      fz.run("valid_variant", assemble(h.dump(), s.data), load(&b.weights), n + "metadata last");
    }
    {
      Doc d = doc;  // escaped characters in the config text
      OJson c = config_of(d);
      c["producer"] = std::string("\xC3\xA9\xE2\x82\xAC\x01 ") + std::string(1, '\0') + "{[";
      set_config_text(d, c.dump());
      fz.run("valid_variant", compose(d), load(&b.weights), n + "producer with control chars and NUL");
      set_config_text(d, " \n\t" + config_of(doc).dump(2) + "\n ");
      fz.run("valid_variant", compose(d), load(&b.weights), n + "config with whitespace");
    }
    for (int rep = 0; rep < 12; ++rep) {
      // Physical data order permuted, header order unchanged (or shuffled), offsets consistent.
      Split s = split(b.bytes);
      std::vector<std::size_t> order(b.pos.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
      Bytes data;
      for (auto i : order) {
        const auto& p = b.pos[i];
        s.header[p.name]["data_offsets"] = OJson::array({data.size(), data.size() + (p.end - p.begin)});
        data.insert(data.end(), b.bytes.begin() + b.data_start + p.begin, b.bytes.begin() + b.data_start + p.end);
      }
      s.data = data;
      if (rep % 2 == 1) {
        OJson h = OJson::object();
        std::vector<std::string> keys;
        for (const auto& [k, v] : s.header.items()) keys.push_back(k);
        for (std::size_t i = keys.size(); i > 1; --i) std::swap(keys[i - 1], keys[rng.below(i)]);
        for (const auto& k : keys) h[k] = s.header.at(k);
        s.header = h;
      }
      fz.run("valid_variant", join(s), load(&b.weights), n + "permuted data layout");
    }
    // Half types re-encoded exactly: values k/1024 are exact in F16; BF16 keeps the top 16 bits.
    for (const auto& p : b.pos) {
      Doc d = doc;
      Entry* e = find_entry(d, p.name);
      WeightMap expect = b.weights;
      auto& v = expect.at(p.name);
      std::vector<std::uint16_t> half(v.size()), bf16(v.size());
      WeightMap expect_bf = b.weights;
      for (std::size_t i = 0; i < v.size(); ++i) {
        v[i] = std::round(v[i] * 1024.0f) / 1024.0f;
        half[i] = half_bits_exact(v[i]);
        const auto bits = std::bit_cast<std::uint32_t>(b.weights.at(p.name)[i]);
        bf16[i] = static_cast<std::uint16_t>(bits >> 16);
        expect_bf.at(p.name)[i] = std::bit_cast<float>(bits & 0xFFFF0000u);
      }
      // F16 edge values: smallest subnormal, largest finite, negative zero.
      if (v.size() >= 3) {
        half[0] = 0x0001;
        v[0] = std::ldexp(1.0f, -24);
        half[1] = 0x7BFF;
        v[1] = 65504.0f;
        half[2] = 0x8000;
        v[2] = -0.0f;
      }
      e->dtype = "F16";
      e->bytes = u16_bytes(half);
      fz.run("valid_variant", compose(d), load(&expect), n + "F16 " + p.name);
      e->dtype = "BF16";
      e->bytes = u16_bytes(bf16);
      fz.run("valid_variant", compose(d), load(&expect_bf), n + "BF16 " + p.name);
    }
  }
}

// Every length of the first two bases (the largest and the smallest file); for the others every
// length inside the header and every 5th inside the data.
void gen_truncate(Fuzzer& fz, const std::vector<Base>& bases) {
  for (std::size_t k = 0; k < bases.size(); ++k) {
    const Base& b = bases[k];
    for (std::size_t len = 0; len < b.bytes.size(); ++len) {
      if (k >= 2 && len > b.data_start && len % 5 != 0) continue;
      fz.run("truncate", Bytes(b.bytes.begin(), b.bytes.begin() + len), reject(),
             b.label + " truncated to " + std::to_string(len));
    }
  }
}

// Any header length other than the real one is rejected: a shorter header is an incomplete JSON
// text or leaves the data buffer too long, a longer one takes data bytes into the JSON text.
void gen_header_len(Fuzzer& fz, const std::vector<Base>& bases, Rng& rng) {
  for (std::size_t bi = 0; bi < bases.size(); ++bi) {
    const Base& b = bases[bi];
    const std::uint64_t n = get_u64(b.bytes), size = b.bytes.size();
    const std::vector<std::uint64_t> special = {std::uint64_t{1} << 63, kU64Max, size, size - 7, 100'000'001,
                                                100'000'000, std::uint64_t{1} << 32, (std::uint64_t{1} << 32) + n,
                                                n + size, kU64Max - 7, kU64Max - 8, size - 8 + 1};
    for (auto v : special) {
      Bytes f = b.bytes;
      put_u64(f, v);
      fz.run("header_len", f, reject({"header length"}), b.label + " N=" + std::to_string(v));
    }
    // Every length from 0 to N + 64 for the first two bases; near N and every 7th for the others.
    for (std::uint64_t m = 0; m <= n + 64; ++m) {
      if (m == n || (bi >= 2 && m + 64 < n && m % 7 != 0)) continue;
      Bytes f = b.bytes;
      put_u64(f, m);
      fz.run("header_len", f, reject(), b.label + " N=" + std::to_string(m));
    }
    for (int rep = 0; rep < 60; ++rep) {  // random flips within the 8 length bytes
      Bytes f = b.bytes;
      const std::size_t k = 1 + rng.below(3);
      for (std::size_t i = 0; i < k; ++i) f[rng.below(8)] ^= static_cast<unsigned char>(1 + rng.below(255));
      fz.run("header_len", f, get_u64(f) == n ? load(&b.weights) : reject(), b.label + " flipped length bytes");
    }
  }
}

// Flips 1..8 bytes of [lo, hi). When only data bytes changed the outcome is known exactly: loads
// with the flipped weights iff every value is still finite.
void flip_cases(Fuzzer& fz, const std::string& cls, const Base& b, Rng& rng, std::size_t lo, std::size_t hi,
                int count) {
  for (int rep = 0; rep < count; ++rep) {
    Bytes f = b.bytes;
    const std::size_t k = 1 + rng.below(8);
    bool header_touched = false;
    std::ostringstream note;
    note << b.label << " flips at";
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t p = lo + rng.below(hi - lo);
      f[p] ^= static_cast<unsigned char>(1 + rng.below(255));
      header_touched = header_touched || p < b.data_start;
      note << ' ' << p;
    }
    if (header_touched || f == b.bytes) {
      fz.run(cls, f, f == b.bytes ? load(&b.weights) : any(), note.str());
    } else {
      const WeightMap w = decode_weights(b, f);
      fz.run(cls, f, all_finite(w) ? load(&w) : reject({"non-finite"}), note.str());
    }
  }
}

void gen_flips(Fuzzer& fz, const std::vector<Base>& bases, Rng& rng) {
  for (const auto& b : bases) {
    flip_cases(fz, "flip_any", b, rng, 0, b.bytes.size(), 700);
    flip_cases(fz, "flip_header", b, rng, 8, b.data_start, 700);
    flip_cases(fz, "flip_data", b, rng, b.data_start, b.bytes.size(), 300);
  }
}

void gen_offsets(Fuzzer& fz, const std::vector<Base>& bases) {
  for (const auto& b : bases) {
    const Split orig = split(b.bytes);
    const std::size_t buf = orig.data.size();
    for (const Pos& p : sampled(b)) {
      const std::string name = json_quoted(p.name);
      const std::string n = b.label + " " + p.name + ": ";
      auto with = [&](const OJson& offsets, const Want& want, const std::string& what) {
        Split s = orig;
        s.header[p.name]["data_offsets"] = offsets;
        fz.run("offsets", join(s), want, n + what);
      };
      with(OJson::array({p.begin + buf, p.end + buf}), reject({name}), "moved past the end");
      with(OJson::array({p.begin, buf + 1}), reject({name}), "end one past the buffer");
      with(OJson::array({p.begin, kU64Max}), reject({name}), "end 2^64-1");
      with(OJson::array({kU64Max, kU64Max}), reject({name}), "begin=end=2^64-1");
      with(OJson::array({p.begin, std::uint64_t{1} << 63}), reject({name}), "end 2^63");
      with(OJson::array({p.end, p.begin}), reject({name}), "end < begin");
      with(OJson::array({p.begin, p.end - 4}), reject({name}), "shrunk by 4");
      with(OJson::array({p.begin, p.begin}), reject({name}), "empty");
      with(OJson::array({p.begin, static_cast<double>(p.end)}), reject({name}), "float end");
      with(OJson::array({-1, p.end}), reject({name}), "negative begin");
      with(OJson::array({std::to_string(p.begin), p.end}), reject({name}), "string begin");
      with(OJson::array({p.begin}), reject({name}), "one element");
      with(OJson::array({p.begin, p.end, p.end}), reject({name}), "three elements");
      with(OJson(), reject({name}), "null");
      with(OJson::object(), reject({name}), "object");
      with(OJson::array({p.begin + 4, p.end + 4}), reject(), "shifted +4 (overlaps next or past end)");
      if (p.begin >= 4) with(OJson::array({p.begin - 4, p.end - 4}), reject({name, "overlap"}), "shifted -4");
      {
        // A 4-byte gap before this tensor: insert bytes and shift it and everything after it.
        Split s = orig;
        s.data.insert(s.data.begin() + p.begin, {1, 2, 3, 4});
        for (const auto& q : b.pos)
          if (q.begin >= p.begin) s.header[q.name]["data_offsets"] = OJson::array({q.begin + 4, q.end + 4});
        fz.run("offsets", join(s), reject({name, "gap"}), n + "4-byte gap before");
      }
      for (const Pos& q : b.pos) {
        if (q.name == p.name) continue;
        Split s = orig;
        s.header[p.name]["data_offsets"] = OJson::array({q.begin, q.end});
        s.header[q.name]["data_offsets"] = OJson::array({p.begin, p.end});
        if (q.begin > p.begin) {  // swap the two tensors' offsets
          if (p.end - p.begin == q.end - q.begin) {
            WeightMap w = b.weights;
            const auto& wp = b.weights.at(p.name);
            const auto& wq = b.weights.at(q.name);
            w.at(p.name) = wq;
            w.at(q.name) = wp;
            fz.run("offsets", join(s), load(&w), n + "swapped with same-size " + q.name);
          } else {
            fz.run("offsets", join(s), reject(), n + "swapped with " + q.name);
          }
        }
        if (p.end - p.begin == q.end - q.begin) {  // both point at q's bytes; p's region is uncovered
          Split t = orig;
          t.header[p.name]["data_offsets"] = OJson::array({q.begin, q.end});
          fz.run("offsets", join(t), reject({"tensor"}), n + "aliases " + q.name);
        }
      }
    }
  }
}

void gen_dtype(Fuzzer& fz, const std::vector<Base>& bases) {
  const std::vector<std::string> same_bytes_unsupported = {"I32", "U32"};
  const std::vector<std::string> known_other = {"BOOL", "U8",  "I8",  "I16", "U16", "F16",     "BF16",    "F64",
                                                "I64",  "U64", "C64", "F4",  "F6_E2M3", "F8_E4M3", "F8_E5M2", "F8_E8M0",
                                                "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F6_E3M2"};
  const std::vector<std::string> unknown = {"X", "", "f32", "F32 ", " F32", "FLOAT", "F3", "F320", "float32", "I4",
                                            std::string("F32\0", 4), "\xC3\xA9"};
  for (const auto& b : bases) {
    const Split orig = split(b.bytes);
    const Doc doc = decompose(b.bytes);
    for (const auto& p : sampled(b)) {
      const std::string name = json_quoted(p.name);
      const std::string n = b.label + " " + p.name + ": ";
      auto with = [&](const OJson& dtype, const Want& want) {
        Split s = orig;
        s.header[p.name]["dtype"] = dtype;
        fz.run("dtype", join(s), want, n + "dtype " + dtype.dump());
      };
      for (const auto& d : same_bytes_unsupported) with(d, reject({name, "unsupported dtype " + d}));
      for (const auto& d : known_other) with(d, reject({name}));  // byte length no longer matches
      for (const auto& d : unknown) with(d, reject({name, "unknown dtype"}));
      for (const auto& d : {OJson(0), OJson(), OJson(true), OJson::array({"F32"}), OJson::object({{"F32", 1}})})
        with(d, reject({name}));
      {
        Doc d = doc;  // F64 with a matching byte length: a valid container, but weights may not be F64
        Entry* e = find_entry(d, p.name);
        e->dtype = "F64";
        e->bytes = f64_bytes(b.weights.at(p.name));
        fz.run("dtype", compose(d), reject({name, "F64"}), n + "F64 re-encoded");
      }
      {
        Doc d = doc;  // non-finite half values
        Entry* e = find_entry(d, p.name);
        const std::size_t count = b.weights.at(p.name).size();
        for (const auto& [dt, bits] : std::vector<std::pair<std::string, std::uint16_t>>{
                 {"F16", 0x7C00}, {"F16", 0xFC00}, {"F16", 0x7E00}, {"F16", 0x7C01}, {"BF16", 0x7F80},
                 {"BF16", 0xFF80}, {"BF16", 0x7FC0}, {"BF16", 0x7F81}}) {
          std::vector<std::uint16_t> v(count, 0x3800);  // 0.5 in F16; 2^-15 ... in BF16: finite either way
          v[count / 2] = bits;
          e->dtype = dt;
          e->bytes = u16_bytes(v);
          fz.run("dtype", compose(d), reject({name, "non-finite"}), n + dt + " non-finite " + std::to_string(bits));
        }
      }
    }
  }
}

void gen_shape(Fuzzer& fz, const std::vector<Base>& bases) {
  for (const auto& b : bases) {
    const Split orig = split(b.bytes);
    const Doc doc = decompose(b.bytes);
    for (const auto& p : sampled(b)) {
      const std::string name = json_quoted(p.name);
      const std::string n = b.label + " " + p.name + ": ";
      const OJson shape = orig.header.at(p.name).at("shape");
      auto with = [&](const OJson& s2, const std::string& what) {
        Split s = orig;
        s.header[p.name]["shape"] = s2;
        fz.run("shape", join(s), reject({name}), n + what + " " + s2.dump());
      };
      for (std::size_t i = 0; i < shape.size(); ++i) {
        const auto d = shape[i].get<std::uint64_t>();
        for (const OJson& v : {OJson(d + 1), OJson(d - 1), OJson(-1), OJson(-static_cast<std::int64_t>(d)),
                               OJson(std::uint64_t{1} << 62), OJson(std::uint64_t{1} << 63), OJson(kU64Max),
                               OJson(static_cast<double>(d)), OJson(static_cast<double>(d) + 0.5), OJson(1e30),
                               OJson(std::to_string(d)), OJson(), OJson(true), OJson::array({d}), OJson::object()}) {
          OJson s2 = shape;
          s2[i] = v;
          with(s2, "dim " + std::to_string(i));
        }
      }
      // Rank changes (most keep the element count, so only the model's shape check rejects them).
      {
        OJson s2 = shape;
        s2.push_back(1);
        with(s2, "append 1");
        s2 = shape;
        s2.insert(s2.begin(), 1);
        with(s2, "prepend 1");
        std::uint64_t numel = 1;
        for (const auto& d : shape) numel *= d.get<std::uint64_t>();
        if (shape.size() > 1) with(OJson::array({numel}), "flattened");
        with(OJson::array(), "scalar");
        with(OJson::array({numel, 1, 1, 1, 1, 1, 1, 1}), "rank 8");
        with(OJson::array({numel, 1, 1, 1, 1, 1, 1, 1, 1}), "rank 9");
        with(OJson::array({std::uint64_t{1} << 31, std::uint64_t{1} << 31, std::uint64_t{1} << 31}), "overflow");
        with(OJson::array({std::uint64_t{1} << 21, std::uint64_t{1} << 21, std::uint64_t{1} << 21}), "2^63 elements");
        if (shape.size() == 2 && shape[0] != shape[1]) with(OJson::array({shape[1], shape[0]}), "transposed");
        if (shape.size() == 1) with(OJson::array({shape[0].get<std::uint64_t>() / 2, 2}), "split");
        if (shape.size() == 2) with(OJson::array({shape[0]}), "drop a dim");
        for (const OJson& v : {OJson(5), OJson("[16, 3]"), OJson(), OJson::object()}) with(v, "not an array");
      }
      // Zero-element shapes with a huge dimension next to the 0: no overflow, but the dimension
      // does not fit int64 (the loader must not report it as a negative number).
      for (const OJson& s2 : {OJson::array({0, kU64Max}), OJson::array({kU64Max, 0}),
                              OJson::array({0, std::uint64_t{1} << 63}), OJson::array({0, std::uint64_t{1} << 62})}) {
        Doc d = doc;
        Entry* e = find_entry(d, p.name);
        e->shape = s2;
        e->bytes.clear();
        fz.run("shape", compose(d), reject({name}), n + "empty with shape " + s2.dump());
      }
    }
  }
}

void gen_nonfinite(Fuzzer& fz, const std::vector<Base>& bases, Rng& rng) {
  const std::vector<std::uint32_t> bad = {0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0x7F800000u,
                                          0xFF800000u, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7FBFFFFFu};
  const std::vector<std::uint32_t> good = {0x7F7FFFFFu, 0xFF7FFFFFu, 0x00000001u, 0x80000000u, 0x00800000u};
  for (const auto& b : bases) {
    for (const auto& p : sampled(b)) {
      const std::size_t count = (p.end - p.begin) / 4;
      for (auto bits : bad) {
        for (std::size_t index : {std::size_t{0}, count - 1, rng.below(count)}) {
          Bytes f = b.bytes;
          put_f32_bits(f.data() + b.data_start + p.begin + 4 * index, bits);
          fz.run("nonfinite_weight", f, reject({json_quoted(p.name), "non-finite", "index " + std::to_string(index)}),
                 b.label + " " + p.name + "[" + std::to_string(index) + "] bits " + std::to_string(bits));
        }
      }
      for (auto bits : good) {  // extreme but finite: loads (the forward pass may overflow; counted)
        Bytes f = b.bytes;
        put_f32_bits(f.data() + b.data_start + p.begin + 4 * rng.below(count), bits);
        const WeightMap w = decode_weights(b, f);
        fz.run("finite_extreme", f, load(&w), b.label + " " + p.name + " bits " + std::to_string(bits));
      }
    }
  }
}

const std::vector<std::string> kBadUtf8 = {
    "\xFF", "\xFE", "\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xC3", "\xE2\x82", "\xE0\x80\xAF", "\xED\xA0\x80",
    "\xED\xBF\xBF", "\xF0\x82\x82\xAC", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80",
    "\xC3(", "\xE2(\xA1", "\xF0\x9F\x98"};

void gen_utf8(Fuzzer& fz, const std::vector<Base>& bases, Rng& rng) {
  for (const auto& b : bases) {
    const Split orig = split(b.bytes);
    Split with_note = orig;
    with_note.header["__metadata__"]["note"] = "ab";
    const std::string text = orig.header.dump(), note_text = with_note.header.dump();
    const std::string first = json_quoted(b.pos.front().name), last = json_quoted(b.pos.back().name);
    for (const auto& seq : kBadUtf8) {
      auto run_h = [&](const std::string& t, const std::string& what) {
        fz.run("utf8_header", assemble(t, orig.data), reject(), b.label + ": invalid UTF-8 " + what);
      };
      run_h(insert_after(text, "\"}," + first.substr(0, 2), seq), "in the first tensor name");
      run_h(insert_after(text, "}," + last.substr(0, 4), seq), "in the last tensor name");
      run_h(insert_after(text, "\"__meta", seq), "in __metadata__");
      run_h(insert_after(note_text, "\"note\":\"a", seq), "in a metadata value");
      run_h(insert_after(text, "\"dtype\":\"F", seq), "in a dtype");
      run_h(text + seq, "after the header object");
      run_h(seq + text, "before the header object");
      for (int rep = 0; rep < 6; ++rep) {
        std::string t = text;
        t.insert(rng.below(t.size() + 1), seq);
        run_h(t, "at a random position");
        t = text;
        t.replace(rng.below(t.size()), 1, seq);
        run_h(t, "replacing a random byte");
      }
      // Raw bytes inside the config text (which lives in a JSON string of the header).
      auto run_c = [&](const std::string& t, const std::string& what) {
        fz.run("utf8_config", assemble(t, orig.data), reject(), b.label + ": invalid UTF-8 in the config " + what);
      };
      run_c(insert_after(text, "tests/", seq), "producer");
      run_c(insert_after(text, "\\\"mode\\\":\\\"", seq), "mode");
      run_c(insert_after(text, "{\\\"", seq), "first key");
      run_c(insert_after(text, "\\\"rnn\\\":{", seq), "between tokens");
    }
    // Escapes: lone surrogates are rejected wherever they are; valid pairs are fine.
    for (const std::string esc : {"\\ud800", "\\udc00", "\\udbff\\u0041", "\\udc00\\ud800", "\\ud800\\ud800"}) {
      fz.run("utf8_header", assemble(insert_after(note_text, "\"note\":\"a", esc), orig.data), reject(),
             b.label + ": " + esc + " in a metadata value");
      fz.run("utf8_header", assemble(insert_after(text, "\"}," + first.substr(0, 2), esc), orig.data), reject(),
             b.label + ": " + esc + " in a tensor name");
      // In the config JSON: the header string holds the escape's text ("\\ud800" in the header).
      std::string doubled;  // every backslash escaped once more for the header string
      for (char ch : esc) doubled += ch == '\\' ? std::string("\\\\") : std::string(1, ch);
      fz.run("utf8_config", assemble(insert_after(text, "tests/", doubled), orig.data), reject({"rnnad.config"}),
             b.label + ": " + esc + " escaped inside the config");
    }
    // Control characters: raw in the header is invalid JSON; escaped in the header they become raw
    // control characters in the config text, which is then invalid JSON.
    for (const std::string& ctl : {std::string(1, '\0'), std::string("\x01"), std::string("\x1f"), std::string("\n")}) {
      fz.run("utf8_header", assemble(insert_after(note_text, "\"note\":\"a", ctl), orig.data), reject(),
             b.label + ": raw control char in a metadata value");
    }
    for (const std::string esc : {"\\u0000", "\\u0001", "\\n", "\\t", "\\u001f"}) {
      fz.run("utf8_config", assemble(insert_after(text, "tests/", esc), orig.data), reject({"rnnad.config"}),
             b.label + ": " + esc + " unescaped in a config string");
    }
    fz.run("utf8_header", assemble(insert_after(note_text, "\"note\":\"a", "\\ud83d\\ude00\\u00e9"), orig.data),
           load(&b.weights), b.label + ": valid surrogate pair in a metadata value");
    fz.run("utf8_config", assemble(insert_after(text, "tests/", "\\\\ud83d\\\\ude00\xC3\xA9"), orig.data),
           load(&b.weights), b.label + ": valid escapes and UTF-8 in the producer");
  }
}

const std::string kHole = "@@HOLE@@";

void gen_nesting(Fuzzer& fz, const std::vector<Base>& bases) {
  for (const auto& b : bases) {
    // Depth 100000 (a 100k-level JSON text) for the first base only: it is slow under ASan.
    const bool first_base = &b == &bases.front();
    std::vector<std::size_t> deep = {33, 34, 64, 1000};
    if (first_base) deep.push_back(100000);
    const Split orig = split(b.bytes);
    const std::string first = b.pos.front().name;
    // Header slots: (how to place the hole, depth of the object/array that holds the value).
    struct Slot {
      std::string what;
      std::size_t depth;
      OJson header;
    };
    std::vector<Slot> slots;
    {
      Slot s{"metadata value", 2, orig.header};
      s.header["__metadata__"]["deep"] = kHole;
      slots.push_back(s);
      s = {"top-level key", 1, orig.header};
      s.header["deep"] = kHole;
      slots.push_back(s);
      s = {"tensor shape", 2, orig.header};
      s.header[first]["shape"] = kHole;
      slots.push_back(s);
      s = {"shape element", 3, orig.header};
      s.header[first]["shape"][0] = kHole;
      slots.push_back(s);
      s = {"dtype", 2, orig.header};
      s.header[first]["dtype"] = kHole;
      slots.push_back(s);
      s = {"data_offsets", 2, orig.header};
      s.header[first]["data_offsets"] = kHole;
      slots.push_back(s);
    }
    auto expect_for = [](std::size_t total) {
      Want w = reject();
      if (total > 32) w.mention.push_back("nested deeper than 32");
      else w.not_mention.push_back("nested deeper");
      return w;
    };
    for (const auto& slot : slots) {
      const std::string text = slot.header.dump();
      std::vector<std::size_t> depths = deep;
      depths.push_back(32 - slot.depth);  // total exactly 32: rejected, but not for nesting
      depths.push_back(31 - slot.depth);
      for (auto d : depths) {
        for (bool obj : {false, true}) {
          const std::string t = replace_first(text, json_quoted(kHole), obj ? deep_object(d) : deep_array(d));
          fz.run("nesting_header", assemble(t, orig.data), expect_for(slot.depth + d),
                 b.label + ": " + slot.what + (obj ? " objects" : " arrays") + " depth " + std::to_string(d));
        }
      }
    }
    const std::string text = orig.header.dump();
    for (std::size_t d : {std::size_t{31}, std::size_t{32}, std::size_t{33}, std::size_t{1000}, first_base ? std::size_t{100000} : std::size_t{2000}}) {
      // The whole header wrapped: the object's own nesting (2) adds to d.
      fz.run("nesting_header", assemble(std::string(d, '[') + text + std::string(d, ']'), orig.data),
             expect_for(d + 3), b.label + ": header wrapped in " + std::to_string(d) + " arrays");
      // Unbalanced: closers first must not let a deep prefix through.
      fz.run("nesting_header", assemble(std::string(d, ']') + std::string(d + 40, '[') + text, orig.data), reject(),
             b.label + ": closers then openers " + std::to_string(d));
    }
    // Config: root object depth 1, rnn object depth 2.
    const Doc doc = decompose(b.bytes);
    const OJson cfg = config_of(doc);
    std::vector<Slot> cslots;
    {
      Slot s{"producer", 1, cfg};
      s.header["producer"] = kHole;
      cslots.push_back(s);
      s = {"rnn.prefix", 2, cfg};
      s.header["rnn"]["prefix"] = kHole;
      cslots.push_back(s);
      s = {"unknown field", 1, cfg};
      s.header["deep"] = kHole;
      cslots.push_back(s);
      s = {"rnn", 1, cfg};
      s.header["rnn"] = kHole;
      cslots.push_back(s);
    }
    for (const auto& slot : cslots) {
      const std::string text_c = slot.header.dump();
      std::vector<std::size_t> depths = deep;
      depths.push_back(32 - slot.depth);
      for (auto d : depths) {
        for (bool obj : {false, true}) {
          Doc d2 = doc;
          set_config_text(d2, replace_first(text_c, json_quoted(kHole), obj ? deep_object(d) : deep_array(d)));
          Want w = expect_for(slot.depth + d);
          w.mention.push_back("rnnad.config");
          if (slot.depth + d <= 32) w.mention.pop_back();
          fz.run("nesting_config", compose(d2), w,
                 b.label + ": config " + slot.what + (obj ? " objects" : " arrays") + " depth " + std::to_string(d));
        }
      }
    }
    for (std::size_t d : {std::size_t{30}, std::size_t{31}, std::size_t{1000}, first_base ? std::size_t{100000} : std::size_t{2000}}) {
      Doc d2 = doc;
      set_config_text(d2, std::string(d, '[') + cfg.dump() + std::string(d, ']'));
      fz.run("nesting_config", compose(d2), expect_for(d + 2),
             b.label + ": config wrapped in " + std::to_string(d) + " arrays");
    }
    {
      Doc d2 = doc;  // brackets inside config strings do not count
      OJson c = cfg;
      c["producer"] = std::string(100000, '{') + "\"\\" + std::string(50, '[');
      set_config_text(d2, c.dump());
      fz.run("nesting_config", compose(d2), load(&b.weights), b.label + ": brackets in the producer string");
    }
  }
}

void gen_duplicates(Fuzzer& fz, const std::vector<Base>& bases) {
  const Want dup = reject({"duplicate key"});
  for (const auto& b : bases) {
    const Split orig = split(b.bytes);
    const std::string text = orig.header.dump();
    auto run_h = [&](const std::string& t, const Want& w, const std::string& what) {
      fz.run("duplicate_key", assemble(t, orig.data), w, b.label + ": " + what);
    };
    for (const auto& p : b.pos) {
      const std::string name = json_quoted(p.name);
      const std::string entry = orig.header.at(p.name).dump();
      run_h(text.substr(0, text.size() - 1) + "," + name + ":" + entry + "}", dup, "tensor entry twice " + p.name);
      for (const std::string field : {"\"dtype\":\"F32\",", "\"shape\":[1],", "\"data_offsets\":[0,4],",
                                      "\"d\\u0074ype\":\"F32\",", "\"\\u0073hape\":[1],"})
        run_h(insert_after(text, name + ":{", field), dup, "field twice in " + p.name + ": " + field);
    }
    {
      // The same name spelled with an escape is still the same key.
      const std::string& first = b.pos.front().name;
      std::ostringstream escaped;
      escaped << "\"\\u" << std::hex << std::setw(4) << std::setfill('0') << static_cast<int>(first[0])
              << first.substr(1) << '"';
      run_h(text.substr(0, text.size() - 1) + "," + escaped.str() + ":" + orig.header.at(first).dump() + "}", dup,
            "tensor name twice, once escaped");
    }
    const std::string meta = orig.header.at("__metadata__").dump();
    const std::string cfg_literal = json_quoted(orig.header.at("__metadata__").at("rnnad.config").get<std::string>());
    run_h(text.substr(0, text.size() - 1) + ",\"__metadata__\":" + meta + "}", dup, "__metadata__ twice");
    run_h(insert_after(text, "\"__metadata__\":{", "\"rnnad.config\":" + cfg_literal + ","), dup, "rnnad.config twice");
    run_h(insert_after(text, "\"__metadata__\":{", "\"rnnad\\u002econfig\":" + cfg_literal + ","), dup,
          "rnnad.config twice, once escaped");
    run_h(insert_after(text, "\"__metadata__\":{", "\"format\":\"pt\",\"format\":\"pt\","), dup, "format twice");
    run_h(insert_after(text, "\"__metadata__\":{", "\"x\":{\"a\":1,\"b\":{\"c\":1,\"c\":1}},"), dup,
          "nested duplicate in a metadata value");
    // The same key in different objects is not a duplicate.
    run_h(insert_after(text, "\"__metadata__\":{", "\"dtype\":\"a\",\"shape\":\"b\"," + json_quoted(b.pos.front().name) + ":\"c\","),
          load(&b.weights), "tensor and field names reused as metadata keys");

    const Doc doc = decompose(b.bytes);
    const std::string ctext = config_of(doc).dump();
    auto run_c = [&](const std::string& t, const Want& w, const std::string& what) {
      Doc d = doc;
      set_config_text(d, t);
      fz.run("duplicate_key", compose(d), w, b.label + ": config " + what);
    };
    const std::string mode = std::string("\"mode\":") + json_quoted(rnnad::cell_type_name(b.cfg.mode)) + ",";
    const Want cdup = reject({"duplicate key", "rnnad.config"});
    run_c(insert_after(ctext, "{", "\"format_version\":1,"), cdup, "format_version twice");
    run_c(insert_after(ctext, "{", "\"kind\":\"rnn\","), cdup, "kind twice");
    run_c(insert_after(ctext, "{", "\"producer\":\"x\","), cdup, "producer twice");
    run_c(insert_after(ctext, "{", "\"rnn\":" + config_of(doc).at("rnn").dump() + ","), cdup, "rnn twice");
    run_c(insert_after(ctext, "\"rnn\":{", mode), cdup, "mode twice");
    run_c(insert_after(ctext, "\"rnn\":{", "\"hidden_size\":4,"), cdup, "hidden_size twice");
    run_c(insert_after(ctext, "\"rnn\":{", "\"hidden\\u005fsize\":4,"), cdup, "hidden_size twice, once escaped");
    run_c(insert_after(ctext, "\"rnn\":{", "\"kind\":\"rnn\","), reject({"rnn.kind"}), "kind inside rnn (not a duplicate)");
  }
}

void gen_trailing(Fuzzer& fz, const std::vector<Base>& bases, Rng& rng) {
  for (const auto& b : bases) {
    for (std::size_t k = 1; k <= 24; ++k) {
      for (int kind = 0; kind < 3; ++kind) {
        Bytes f = b.bytes;
        for (std::size_t i = 0; i < k; ++i)
          f.push_back(static_cast<unsigned char>(kind == 0 ? 0u : kind == 1 ? 32u : rng.below(256)));
        fz.run("trailing_bytes", f, reject({"trailing bytes"}), b.label + " +" + std::to_string(k) + " bytes");
      }
    }
    Bytes f = b.bytes;  // the last tensor's bytes repeated
    f.insert(f.end(), b.bytes.begin() + b.data_start + b.pos.back().begin, b.bytes.end());
    fz.run("trailing_bytes", f, reject({"trailing bytes"}), b.label + " last tensor repeated");
  }
}

void gen_missing_extra(Fuzzer& fz, const std::vector<Base>& bases) {
  for (const auto& b : bases) {
    const Doc doc = decompose(b.bytes);
    for (std::size_t i = 0; i < doc.tensors.size(); ++i) {
      Doc d = doc;
      d.tensors.erase(d.tensors.begin() + static_cast<std::ptrdiff_t>(i));
      fz.run("missing_tensor", compose(d), reject({"missing tensor " + json_quoted(doc.tensors[i].name)}),
             b.label + " without " + doc.tensors[i].name);
    }
    {
      Doc d = doc;
      d.tensors.clear();
      fz.run("missing_tensor", compose(d), reject({"missing tensor"}), b.label + " without any tensor");
      d = doc;
      d.tensors.resize(doc.tensors.size() / 2);
      fz.run("missing_tensor", compose(d), reject({"missing tensor"}), b.label + " second half removed");
    }
    const std::string& pre = b.cfg.prefix;
    const std::string L = std::to_string(b.cfg.num_layers);
    std::vector<std::string> names = {"foo", "", " ", "decoder.weight", pre + "weight_ih_l" + L,
                                      pre + "weight_ih_l0_reverse", pre + "bias_ih_l0", pre + "weight_hr_l0",
                                      pre + "weight_hr_l0_reverse", "weight_ih_l0", "x." + pre + "weight_ih_l0",
                                      pre + "WEIGHT_IH_L0", pre + "weight_ih_l0 ", pre + "weight_ih_l00",
                                      pre + "weight_ih_l-1", "__metadata", "__metadata__ ", "\xC3\xA9",
                                      "line\nbreak", "tab\tname", "quote\"name", std::string("nul\0name", 8)};
    for (const auto& name : names) {
      if (b.expected_names.count(name)) continue;
      const std::vector<std::pair<std::string, std::pair<OJson, Bytes>>> payloads = {
          {"F32 [1]", {OJson::array({1}), Bytes{0, 0, 128, 63}}},
          {"F32 [0]", {OJson::array({0}), Bytes{}}},
          {"F64 [1]", {OJson::array({1}), Bytes(8, 0)}},
          {"F16 [2]", {OJson::array({2}), Bytes{0, 60, 0, 60}}}};
      for (const auto& [what, payload] : payloads) {
        for (std::size_t at : {std::size_t{0}, doc.tensors.size() / 2, doc.tensors.size()}) {
          Doc d = doc;
          Entry e{name, what.substr(0, what.find(' ')), payload.first, payload.second};
          d.tensors.insert(d.tensors.begin() + static_cast<std::ptrdiff_t>(at), e);
          fz.run("extra_tensor", compose(d), reject({"unexpected tensor " + json_quoted(name)}),
                 b.label + " extra " + json_quoted(name) + " " + what);
        }
      }
    }
    {
      Doc d = doc;  // an expected tensor under a second, unexpected name
      Entry e = doc.tensors.front();
      e.name = "copy_of_" + e.name;
      d.tensors.push_back(e);
      fz.run("extra_tensor", compose(d), reject({"unexpected tensor " + json_quoted(e.name)}), b.label + " copied tensor");
    }
  }
}

void gen_config(Fuzzer& fz, const std::vector<Base>& bases) {
  for (const auto& b : bases) {
    const Doc doc = decompose(b.bytes);
    const OJson cfg0 = config_of(doc);
    const bool lstm = b.cfg.mode == CellType::Lstm;
    auto edit = [&](const std::string& what, const auto& fn, const Want& want) {
      Doc d = doc;
      OJson c = cfg0;
      fn(c);
      set_config_text(d, c.dump());
      fz.run("config_edit", compose(d), want, b.label + ": " + what);
    };
    auto set_top = [&](const std::string& key, const OJson& v, const Want& want) {
      edit(key + " = " + v.dump(), [&](OJson& c) { c[key] = v; }, want);
    };
    auto set_rnn = [&](const std::string& key, const OJson& v, const Want& want) {
      edit("rnn." + key + " = " + v.dump(), [&](OJson& c) { c["rnn"][key] = v; }, want);
    };
    auto erase_top = [&](const std::string& key, const Want& want) {
      edit("erase " + key, [&](OJson& c) { c.erase(key); }, want);
    };
    auto erase_rnn = [&](const std::string& key, const Want& want) {
      edit("erase rnn." + key, [&](OJson& c) { c["rnn"].erase(key); }, want);
    };
    const auto big = std::uint64_t{1} << 63;
    // format_version
    set_top("format_version", 2, unsupported({"format version 2", "newer"}));
    set_top("format_version", 3, unsupported({"newer"}));
    set_top("format_version", 1000000, unsupported({"newer"}));
    // Larger than the reader's range: rejected (docs/model_format.md §2 says as UnsupportedError).
    for (const OJson& v : {OJson(1000001), OJson(big), OJson(kU64Max)}) set_top("format_version", v, reject());
    for (const OJson& v : {OJson(0), OJson(-1), OJson("1"), OJson(1.0), OJson(1.5), OJson(), OJson(true),
                           OJson::array({1})})
      set_top("format_version", v, reject({"format_version"}));
    erase_top("format_version", reject({"format_version", "missing"}));
    // kind
    for (const char* k : {"foo", "RNN", "", "rnn ", "Rnn", "transformer"}) set_top("kind", k, unsupported({"kind"}));
    // Kinds this reader knows, but whose "model" object is missing here.
    for (const char* k : {"reconstruction", "prediction", "attention"}) set_top("kind", k, reject({"model"}));
    for (const OJson& v : {OJson(5), OJson(), OJson::array({"rnn"})}) set_top("kind", v, reject({"kind"}));
    erase_top("kind", reject({"kind", "missing"}));
    // producer
    erase_top("producer", load(&b.weights));
    set_top("producer", "", load(&b.weights));
    set_top("producer", std::string(100000, 'p'), load(&b.weights));
    set_top("producer", "\xC3\xBC\xE2\x82\xAC", load(&b.weights));
    for (const OJson& v : {OJson(5), OJson(), OJson::object()}) set_top("producer", v, reject({"producer"}));
    // unknown fields
    set_top("extra", 1, reject({"\"extra\"", "not part of format version 1"}));
    set_top("", 1, reject({"not part of format version 1"}));
    set_top("Format_version", 1, reject({"Format_version"}));
    set_rnn("dropout", 0.0, reject({"rnn.dropout"}));
    set_rnn("batch_first", false, reject({"rnn.batch_first"}));
    set_rnn("proj", 0, reject({"rnn.proj"}));
    // rnn object
    for (const OJson& v : {OJson(), OJson::array(), OJson("LSTM"), OJson(1)}) set_top("rnn", v, reject({"rnn"}));
    erase_top("rnn", reject({"rnn", "missing"}));
    // sizes
    for (const char* key : {"hidden_size", "input_size"}) {
      for (const OJson& v : {OJson(0), OJson(-1), OJson((1 << 20) + 1), OJson(big), OJson(kU64Max), OJson("4"),
                             OJson(4.0), OJson(4.5), OJson(), OJson(true),
                             OJson(std::numeric_limits<std::int64_t>::min())})
        set_rnn(key, v, reject({std::string("rnn.") + key}));
      for (const OJson& v : {OJson(5), OJson(2), OJson(1), OJson(1 << 20)}) set_rnn(key, v, reject());
      erase_rnn(key, reject({std::string("rnn.") + key, "missing"}));
    }
    // num_layers
    for (const OJson& v : {OJson(0), OJson(-1), OJson(1025), OJson(big), OJson(2.0), OJson("2")})
      set_rnn("num_layers", v, reject({"rnn.num_layers"}));
    set_rnn("num_layers", b.cfg.num_layers + 1, reject({"missing tensor"}));
    set_rnn("num_layers", 1024, reject({"missing tensor"}));
    if (b.cfg.num_layers > 1) set_rnn("num_layers", 1, reject({"unexpected tensor"}));
    erase_rnn("num_layers", b.cfg.num_layers == 1 ? load(&b.weights) : reject());
    // bidirectional, bias
    set_rnn("bidirectional", !b.cfg.bidirectional, reject());
    erase_rnn("bidirectional", b.cfg.bidirectional ? reject() : load(&b.weights));
    set_rnn("bias", !b.cfg.bias, reject());
    erase_rnn("bias", b.cfg.bias ? load(&b.weights) : reject());
    for (const char* key : {"bidirectional", "bias"})
      for (const OJson& v : {OJson("true"), OJson(1), OJson(0), OJson()}) set_rnn(key, v, reject({std::string("rnn.") + key}));
    // proj_size
    if (!lstm) {
      set_rnn("proj_size", 2, reject({"rnn.proj_size", "only valid for mode LSTM"}));
      set_rnn("proj_size", 1, reject({"rnn.proj_size"}));
    } else {
      set_rnn("proj_size", 4, reject({"rnn.proj_size", "smaller than hidden_size"}));
      set_rnn("proj_size", 1 << 20, reject({"rnn.proj_size"}));
      set_rnn("proj_size", b.cfg.proj_size > 0 ? 1 : 2, reject());
    }
    for (const OJson& v : {OJson(-1), OJson((1 << 20) + 1), OJson(2.0), OJson("0")})
      set_rnn("proj_size", v, reject({"rnn.proj_size"}));
    erase_rnn("proj_size", b.cfg.proj_size == 0 ? load(&b.weights) : reject());
    set_rnn("proj_size", 0, b.cfg.proj_size == 0 ? load(&b.weights) : reject());
    // mode
    for (const OJson& v : {OJson("lstm"), OJson("gru"), OJson(""), OJson("RNN"), OJson("TANH"), OJson(5), OJson()})
      set_rnn("mode", v, reject({"rnn.mode"}));
    erase_rnn("mode", reject({"rnn.mode", "missing"}));
    for (const char* m : {"LSTM", "GRU", "RNN_TANH", "RNN_RELU"}) {
      const bool same = m == std::string(rnnad::cell_type_name(b.cfg.mode));
      const bool rnn_pair = !lstm && b.cfg.mode != CellType::Gru && (m == std::string("RNN_TANH") || m == std::string("RNN_RELU"));
      set_rnn("mode", m, same || rnn_pair ? load(&b.weights) : reject());
    }
    // prefix
    set_rnn("prefix", "x.", reject({"missing tensor"}));
    set_rnn("prefix", b.cfg.prefix + " ", reject({"missing tensor"}));
    erase_rnn("prefix", b.cfg.prefix.empty() ? load(&b.weights) : reject({"missing tensor"}));
    for (const OJson& v : {OJson(5), OJson(), OJson::array()}) set_rnn("prefix", v, reject({"rnn.prefix"}));
    // The config text itself.
    auto text = [&](const std::string& t, const Want& want, const std::string& what) {
      Doc d = doc;
      set_config_text(d, t);
      fz.run("config_edit", compose(d), want, b.label + ": config text " + what);
    };
    for (const std::string t : {"", "{", "{}x", "{} {}", "nul", "{\"format_version\":1,}", "{'format_version':1}",
                                "{\"format_version\":01}", "/* */{}"})
      text(t, reject({"rnnad.config"}), json_quoted(t));
    for (const std::string& t : std::vector<std::string>{"null", "[]", "1", "\"rnn\"", "true", "{}", "[" + cfg0.dump() + "]",
                                "{\"format_version\":1e0}"})
      text(t, reject(), json_quoted(t));
    text(cfg0.dump() + "x", reject({"rnnad.config"}), "trailing garbage");
    text("\xEF\xBB\xBF" + cfg0.dump(), any(), "UTF-8 BOM before the config");  // nlohmann skips a BOM
    {
      Doc d = doc;
      d.metadata.erase("rnnad.config");
      fz.run("config_edit", compose(d), reject({"rnnad.config"}), b.label + ": no rnnad.config");
      d.metadata["rnnad.config "] = cfg0.dump();
      fz.run("config_edit", compose(d), reject({"rnnad.config"}), b.label + ": misspelt rnnad.config key");
      d = doc;
      d.metadata["rnnad.config"] = cfg0;  // an object instead of a string
      fz.run("config_edit", compose(d), reject({"rnnad.config"}), b.label + ": config as a JSON object");
      d = doc;
      d.metadata["format"] = 1;
      fz.run("config_edit", compose(d), reject({"format"}), b.label + ": non-string metadata value");
      d = doc;
      d.has_metadata = false;
      fz.run("config_edit", compose(d), reject({"rnnad.config"}), b.label + ": no __metadata__");
      for (const OJson& v : {OJson::array(), OJson("x"), OJson(), OJson(1)}) {
        d = doc;
        d.metadata = v;
        fz.run("config_edit", compose(d), reject({"__metadata__"}), b.label + ": __metadata__ = " + v.dump());
      }
    }
  }
}

void gen_entry_structure(Fuzzer& fz, const std::vector<Base>& bases) {
  for (const auto& b : bases) {
    const Split orig = split(b.bytes);
    for (const auto* p : {&b.pos.front(), &b.pos[b.pos.size() / 2], &b.pos.back()}) {
      const std::string name = json_quoted(p->name);
      auto with = [&](const auto& fn, const Want& want, const std::string& what) {
        Split s = orig;
        fn(s.header[p->name]);
        fz.run("entry_structure", join(s), want, b.label + " " + p->name + ": " + what);
      };
      with([](OJson& e) { e["foo"] = 1; }, reject({name, "\"foo\""}), "extra field");
      with([](OJson& e) { e["Dtype"] = "F32"; }, reject({name, "\"Dtype\""}), "extra field Dtype");
      for (const char* f : {"dtype", "shape", "data_offsets"})
        with([f](OJson& e) { e.erase(f); }, reject({name}), std::string("without ") + f);
      for (const OJson& v : {OJson::array(), OJson("x"), OJson(), OJson(1), OJson::object()})
        with([&v](OJson& e) { e = v; }, reject({name}), "entry = " + v.dump());
    }
    for (const std::string t : {"", " ", "[]", "null", "1", "\"x\"", "{}", "{\"__metadata__\":{}}",
                                "{\"__metadata__\":[]}", "{\"__metadata__\":{\"rnnad.config\":1}}", "}", "{",
                                "{\"a\":}", "{\"a\"}", "[{}]"}) {
      fz.run("entry_structure", assemble(t, split(b.bytes).data), reject(), b.label + ": header " + json_quoted(t));
      fz.run("entry_structure", assemble(t, Bytes{}), reject(), b.label + ": header only " + json_quoted(t));
    }
    fz.run("entry_structure", assemble("[" + orig.header.dump() + "]", orig.data), reject({"not a JSON object"}),
           b.label + ": header in an array");
  }
}

// Headers with very many entries. nlohmann's callback parser made header parsing quadratic in the
// number of tensors (10,000 entries: 0.75 s, 20,000: 9 s in a release build); these cases keep it
// linear (a regression shows as a slow class in the table).
void gen_many_tensors(Fuzzer& fz, const std::vector<Base>& bases) {
  // Built as text: ordered_json's operator[] is a linear search, so building these headers as
  // JSON values would itself be quadratic.
  const Base& b = bases.front();
  const Split orig = split(b.bytes);
  const std::string text = orig.header.dump();
  constexpr std::size_t kCount = 10000;
  std::string extra;  // z0 is [1] with 0 bytes (bad); the others are empty [0] tensors
  for (std::size_t i = 0; i < kCount; ++i)
    extra += ",\"z" + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[" + (i == 0 ? "1" : "0") +
             "],\"data_offsets\":[0,0]}";
  const std::string body = text.substr(0, text.size() - 1);
  fz.run("many_tensors", assemble(body + replace_first(extra, "[1]", "[0]") + "}", orig.data),
         reject({"unexpected tensor"}), b.label + " + 10000 empty extra tensors");
  fz.run("many_tensors", assemble(body + extra + "}", orig.data), reject({"\"z0\""}),
         b.label + " + 10000 entries, one of them bad");
  std::string keys;
  for (std::size_t i = 0; i < kCount; ++i) keys += "\"k" + std::to_string(i) + "\":\"v\",";
  fz.run("many_tensors", assemble(insert_after(text, "\"__metadata__\":{", keys), orig.data), load(&b.weights),
         b.label + " + 10000 metadata keys");
}

// Random edits of one node of the parsed JSON (header or config), 1 to 3 per case.
OJson random_scalar(Rng& rng) {
  switch (rng.below(10)) {
    case 0: return OJson(rng.below(20));
    case 1: return OJson(-static_cast<std::int64_t>(rng.below(20)) - 1);
    case 2: return OJson(kU64Max - rng.below(3));
    case 3: return OJson((std::uint64_t{1} << 62) + rng.below(3));
    case 4: return OJson(static_cast<double>(rng.below(100)) / 4.0);
    case 5: return OJson(std::string(1 + rng.below(4), static_cast<char>('a' + rng.below(26))));
    case 6: return OJson("F32");
    case 7: return OJson();
    case 8: return OJson(rng.coin());
    default: return OJson("");
  }
}

void collect(OJson& j, std::vector<OJson*>& out) {
  out.push_back(&j);
  if (j.is_structured())
    for (auto& v : j) collect(v, out);
}

void mutate_json(OJson& root, Rng& rng) {
  std::vector<OJson*> nodes;
  collect(root, nodes);
  OJson& n = *nodes[rng.below(nodes.size())];
  switch (rng.below(10)) {
    case 0: n = random_scalar(rng); break;
    case 1:
    case 2:
      if (n.is_number_unsigned()) {
        const auto v = n.get<std::uint64_t>();
        const std::uint64_t deltas[] = {1, kU64Max, 4, kU64Max - 3, 8};  // +1, -1, +4, -4, +8 (mod 2^64)
        n = v + deltas[rng.below(5)];
      } else if (n.is_string()) {
        auto s = n.get<std::string>();
        if (!s.empty() && rng.coin()) s.erase(rng.below(s.size()), 1);
        else s.insert(rng.below(s.size() + 1), 1, static_cast<char>(' ' + rng.below(95)));
        n = s;
      } else if (n.is_boolean()) {
        n = !n.get<bool>();
      } else {
        n = random_scalar(rng);
      }
      break;
    case 3:
      if (n.is_object() && !n.empty()) {
        auto it = n.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(rng.below(n.size())));
        n.erase(it.key());
      } else {
        n = OJson::object();
      }
      break;
    case 4:
      if (n.is_object()) n[std::string(1, static_cast<char>('a' + rng.below(26)))] = random_scalar(rng);
      else if (n.is_array()) n.push_back(random_scalar(rng));
      else n = OJson::array({n});
      break;
    case 5:
      if (n.is_array() && !n.empty()) n.erase(n.size() - 1);
      else n = OJson::array();
      break;
    case 6:
      if (n.is_array() && n.size() >= 2) std::swap(n[0], n[n.size() - 1]);
      else n = random_scalar(rng);
      break;
    case 7: {
      OJson copy = *nodes[rng.below(nodes.size())];  // a copy of another node
      n = copy;
      break;
    }
    case 8:
      if (n.is_number_unsigned()) n = static_cast<double>(n.get<std::uint64_t>());
      else n = OJson();
      break;
    default:
      if (n.is_number_unsigned()) n = -static_cast<std::int64_t>(n.get<std::uint64_t>() & 0xffff);
      else n = random_scalar(rng);
      break;
  }
}

void gen_random_json(Fuzzer& fz, const std::vector<Base>& bases, Rng& rng) {
  for (const auto& b : bases) {
    const Split orig = split(b.bytes);
    const Doc doc = decompose(b.bytes);
    for (int rep = 0; rep < 500; ++rep) {
      Split s = orig;
      const std::size_t k = 1 + rng.below(3);
      for (std::size_t i = 0; i < k; ++i) mutate_json(s.header, rng);
      fz.run("json_random_header", join(s), any(), b.label + " header rep " + std::to_string(rep));
    }
    for (int rep = 0; rep < 300; ++rep) {
      Doc d = doc;
      OJson c = config_of(d);
      const std::size_t k = 1 + rng.below(3);
      for (std::size_t i = 0; i < k; ++i) mutate_json(c, rng);
      set_config_text(d, c.dump());
      fz.run("json_random_config", compose(d), any(), b.label + " config rep " + std::to_string(rep));
    }
  }
}

}  // namespace

TEST_CASE("model loader survives mutated files", "[fuzz][model][safetensors]") {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Base> bases = make_bases();
  Fuzzer fz;
  Rng rng(20240611);

  gen_baseline(fz, bases);
  gen_valid_variants(fz, bases, rng);
  gen_truncate(fz, bases);
  gen_header_len(fz, bases, rng);
  gen_flips(fz, bases, rng);
  gen_offsets(fz, bases);
  gen_dtype(fz, bases);
  gen_shape(fz, bases);
  gen_nonfinite(fz, bases, rng);
  gen_utf8(fz, bases, rng);
  gen_nesting(fz, bases);
  gen_duplicates(fz, bases);
  gen_trailing(fz, bases, rng);
  gen_missing_extra(fz, bases);
  gen_config(fz, bases);
  gen_entry_structure(fz, bases);
  gen_random_json(fz, bases, rng);
  gen_many_tensors(fz, bases);

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fz.print(std::cout);
  std::cout << "base files:";
  for (const auto& b : bases) std::cout << ' ' << b.label << " (" << b.bytes.size() << " bytes)";
  std::cout << "\nfailures: " << fz.failures() << ", time: " << std::fixed << std::setprecision(2) << seconds << " s\n";

  const Stats t = fz.total();
  CHECK(t.foreign == 0);
  CHECK(fz.failures() == 0);
  REQUIRE(t.cases >= 10000);
}
