// Cell-kernel comparison driver (see cell_case.h).
#include "cell_case.h"

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <utility>

#include "rnnad/cpu/rnn_stack.h"
#include "rnnad/model.h"
#include "rnnad/tolerance.h"

namespace rnnad::test {

namespace {

// A SIGNALLING NaN: any arithmetic on it (CPU or GPU) yields a quiet NaN with other bits, so a
// value computed from a canary that was read out of bounds never passes for an intact canary.
// (A quiet-NaN canary would: x86 propagates its payload, and a write one past the end computed
// from a read one past the end stored exactly the canary's bits.)
constexpr std::uint32_t kCanaryBits = 0x7fa0dead;

std::size_t gates(CellType cell) { return cell == CellType::Lstm ? 4 : cell == CellType::Gru ? 3 : 1; }

std::vector<float> uniform(std::mt19937& rng, std::size_t n, float scale) {
  std::vector<float> v(n);
  for (float& x : v) {
    const double u = static_cast<double>(rng()) / 4294967296.0;  // [0, 1), same on every library
    x = static_cast<float>((2.0 * u - 1.0) * scale);
  }
  return v;
}

}  // namespace

GuardedBuffer::GuardedBuffer(std::size_t n, float fill) : m_size(n), m_storage(n + 2 * kGuard, canary()) {
  for (std::size_t i = 0; i < n; ++i) m_storage[kGuard + i] = fill;
}

float GuardedBuffer::canary() {
  float f;
  std::memcpy(&f, &kCanaryBits, sizeof f);
  return f;
}

bool GuardedBuffer::is_canary(float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kCanaryBits;
}

std::string GuardedBuffer::guard_damage(const std::string& name) const {
  for (std::size_t k = 0; k < kGuard; ++k) {
    if (!is_canary(m_storage[kGuard - 1 - k]))
      return name + ": guard element " + std::to_string(k) + " before the start overwritten";
    if (!is_canary(m_storage[kGuard + m_size + k]))
      return name + ": guard element " + std::to_string(k) + " after the end (index " + std::to_string(m_size + k) +
             ") overwritten";
  }
  return {};
}

std::vector<CellCase> issue_grid() {
  std::vector<CellCase> cases;
  for (CellType cell : {CellType::Lstm, CellType::Gru, CellType::RnnTanh, CellType::RnnRelu})
    for (int hidden : {1, 33, 80})
      for (int batch : {1, 5})
        for (int seq_len : {1, 17}) {
          CellCase c;
          c.cell = cell;
          c.hidden = hidden;
          c.batch = batch;
          c.seq_len = seq_len;
          c.seed = static_cast<std::uint32_t>(1000 * hidden + 10 * batch + seq_len);
          // An Elman RNN with weights U(-0.4, 0.4) at H = 80 has recurrent gain ~2: chaotic, so
          // any two fp32 implementations drift apart by more than fp32 tolerance. Its weights
          // use PyTorch's own init bound 1/sqrt(H) (nn.RNN.reset_parameters) instead.
          if (cell == CellType::RnnTanh || cell == CellType::RnnRelu)
            c.weight_scale = 1.0f / std::sqrt(static_cast<float>(hidden));
          cases.push_back(c);
        }
  return cases;
}

std::string describe(const CellCase& c) {
  std::ostringstream s;
  s << cell_type_name(c.cell) << " H=" << c.hidden << " B=" << c.batch << " T=" << c.seq_len
    << " I=" << c.input << " seed=" << c.seed;
  if (!c.bias) s << " bias=False";
  if (c.row_pad) s << " row_pad=" << c.row_pad;
  if (c.bias_ih_scale > 0.0f) s << " bias_ih_scale=" << c.bias_ih_scale;
  return s.str();
}

CellData make_cell_data(const CellCase& c) {
  std::mt19937 rng(c.seed);
  const std::size_t H = static_cast<std::size_t>(c.hidden), B = static_cast<std::size_t>(c.batch),
                    I = static_cast<std::size_t>(c.input), T = static_cast<std::size_t>(c.seq_len),
                    G = gates(c.cell) * H;
  CellData d;
  d.weight_ih = uniform(rng, G * I, c.weight_scale);
  d.weight_hh = uniform(rng, G * H, c.weight_scale);
  if (c.bias) {
    d.bias_ih = uniform(rng, G, c.bias_ih_scale > 0.0f ? c.bias_ih_scale : c.weight_scale);
    d.bias_hh = uniform(rng, G, c.weight_scale);
  }
  d.x = uniform(rng, T * B * I, c.input_scale);
  d.h0 = uniform(rng, B * H, c.input_scale);
  if (c.cell == CellType::Lstm) d.c0 = uniform(rng, B * H, c.input_scale);
  return d;
}

SequenceResult reference_sequence(const CellCase& c, const CellData& d) {
  cpu::RnnDims dims;
  dims.cell = c.cell;
  dims.input_size = c.input;
  dims.hidden_size = c.hidden;
  const bool lstm = c.cell == CellType::Lstm;
  cpu::RnnParams p;
  p.weight_ih = d.weight_ih.data();
  p.weight_hh = d.weight_hh.data();
  p.bias_ih = c.bias ? d.bias_ih.data() : nullptr;
  p.bias_hh = c.bias ? d.bias_hh.data() : nullptr;
  cpu::RnnStack stack(dims, {p}, c.batch, c.seq_len, cpu::RnnStack::Kernel::Eigen);
  const std::size_t BH = static_cast<std::size_t>(c.batch) * static_cast<std::size_t>(c.hidden);
  SequenceResult r;
  r.output.resize(static_cast<std::size_t>(c.seq_len) * BH);
  r.h_n.resize(BH);
  if (lstm) r.c_n.resize(BH);
  stack.forward(c.seq_len, c.batch, d.x.data(), d.h0.data(), lstm ? d.c0.data() : nullptr, r.output.data(),
                r.h_n.data(), lstm ? r.c_n.data() : nullptr);
  return r;
}

SequenceResult run_sequence(const CellCase& c, const CellData& d, const StepRunner& run) {
  const bool lstm = c.cell == CellType::Lstm;
  const std::size_t H = static_cast<std::size_t>(c.hidden), B = static_cast<std::size_t>(c.batch),
                    I = static_cast<std::size_t>(c.input), G = gates(c.cell) * H,
                    ld = H + static_cast<std::size_t>(c.row_pad);
  StepBuffers io;
  io.batch = c.batch;
  io.hidden = c.hidden;
  io.ld = static_cast<int>(ld);
  io.bias = c.bias;
  io.gx = GuardedBuffer(B * G);
  io.w_hh_t = GuardedBuffer(H * G);
  for (std::size_t row = 0; row < G; ++row)
    for (std::size_t k = 0; k < H; ++k) io.w_hh_t.data()[k * G + row] = d.weight_hh[row * H + k];
  io.b_ih = GuardedBuffer(c.bias ? G : 0);
  io.b_hh = GuardedBuffer(c.bias ? G : 0);
  for (std::size_t i = 0; c.bias && i < G; ++i) {
    io.b_ih.data()[i] = d.bias_ih[i];
    io.b_hh.data()[i] = d.bias_hh[i];
  }
  // h rows of stride ld; the pad columns hold canaries (read: poisons the result; written: damage).
  io.h_prev = GuardedBuffer(B * ld, GuardedBuffer::canary());
  io.h_out = GuardedBuffer(B * ld, GuardedBuffer::canary());
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t j = 0; j < H; ++j) io.h_prev.data()[b * ld + j] = d.h0[b * H + j];
  io.c = GuardedBuffer(lstm ? B * H : 0);
  for (std::size_t i = 0; lstm && i < B * H; ++i) io.c.data()[i] = d.c0[i];

  SequenceResult r;
  r.output.resize(static_cast<std::size_t>(c.seq_len) * B * H);
  for (int t = 0; t < c.seq_len; ++t) {
    // gx = x_t W_ih^T in double, rounded once (the reference's own projection differs by rounding only).
    const float* xt = d.x.data() + static_cast<std::size_t>(t) * B * I;
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t g = 0; g < G; ++g) {
        double s = 0.0;
        for (std::size_t i = 0; i < I; ++i) s += static_cast<double>(xt[b * I + i]) * d.weight_ih[g * I + i];
        io.gx.data()[b * G + g] = static_cast<float>(s);
      }
    // Fresh canaries in h_out's payload too: a unit the kernel forgets to write shows as a NaN.
    for (std::size_t i = 0; i < B * ld; ++i) io.h_out.data()[i] = GuardedBuffer::canary();

    run(io, t);

    const std::string step = " after step " + std::to_string(t);
    for (const auto& [name, buf] : {std::pair<const char*, const GuardedBuffer*>{"gx", &io.gx},
                                    {"w_hh_t", &io.w_hh_t},
                                    {"b_ih", &io.b_ih},
                                    {"b_hh", &io.b_hh},
                                    {"h_prev", &io.h_prev},
                                    {"h_out", &io.h_out},
                                    {"c", &io.c}}) {
      const std::string damage = buf->guard_damage(name);
      if (!damage.empty() && r.damage.empty()) r.damage = damage + step;
    }
    for (std::size_t b = 0; b < B && r.damage.empty(); ++b)
      for (std::size_t j = H; j < ld; ++j)
        if (!GuardedBuffer::is_canary(io.h_out.data()[b * ld + j])) {
          r.damage = "h_out: pad column " + std::to_string(j) + " of row " + std::to_string(b) + " overwritten" + step;
          break;
        }
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t j = 0; j < H; ++j)
        r.output[(static_cast<std::size_t>(t) * B + b) * H + j] = io.h_out.data()[b * ld + j];
    std::swap(io.h_prev, io.h_out);
  }
  r.h_n.assign(r.output.end() - static_cast<std::ptrdiff_t>(B * H), r.output.end());
  if (lstm) r.c_n.assign(io.c.data(), io.c.data() + B * H);
  return r;
}

std::string compare(const std::vector<float>& got, const std::vector<float>& ref, const std::string& what) {
  if (got.size() != ref.size())
    return what + ": " + std::to_string(got.size()) + " values, expected " + std::to_string(ref.size());
  double worst = 0.0;
  std::size_t worst_i = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i]) && std::isfinite(ref[i])) {
      std::ostringstream s;
      s << what << "[" << i << "] = " << got[i] << " is not finite (reference " << ref[i] << ")";
      return s.str();
    }
    const double share = std::abs(static_cast<double>(got[i]) - ref[i]) / tolerance::fp32_bound(ref[i]);
    if (share > worst) {
      worst = share;
      worst_i = i;
    }
  }
  if (worst <= 1.0) return {};
  std::ostringstream s;
  s.precision(9);
  s << what << "[" << worst_i << "] = " << got[worst_i] << ", reference " << ref[worst_i] << ": "
    << static_cast<int>(worst * 100.0) << "% of the tolerance 1e-5*max(1,|ref|)";
  return s.str();
}

}  // namespace rnnad::test
