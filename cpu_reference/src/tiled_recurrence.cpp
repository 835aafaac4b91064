// TiledRecurrence: fused, register-blocked LSTM/GRU steps over batch tiles (see tiled_recurrence.h).
#include "tiled_recurrence.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "rnnad/cpu/activations.h"
#include "rnnad/cpu/activations_avx512.h"

namespace rnnad::cpu::detail {

namespace {

namespace ei = Eigen::internal;
using Packet = ei::packet_traits<float>::type;
constexpr int kVW = ei::packet_traits<float>::size;  // floats per SIMD register: 16 with AVX-512
// Rows per register block: kMR x accumulators registers hold the gates (24 of AVX-512's 32).
constexpr int kMR = kVW >= 16 ? 6 : 3;
#if defined(RNNAD_AVX512_ACTIVATIONS)
constexpr bool kAvx512 = kVW == 16;  // gate updates on whole registers (activations_avx512.h)
#endif
static_assert(TiledRecurrence::kTileRows % kMR == 0);

// Gate groups of a panel. The input part of K has kX groups, the recurrent part kH; each group
// feeds one of kAcc accumulators (xmap / hmap). LSTM: i, f, g, o from both parts. GRU: r and z
// sum both parts, but n keeps W_in x + b_in (acc 2) apart from W_hn h + b_hn (acc 3), since
// PyTorch applies the reset gate to the latter only.
struct LstmCell {
  static constexpr int kX = 4, kH = 4, kAcc = 4;
  static constexpr std::array<int, 4> xmap{0, 1, 2, 3}, hmap{0, 1, 2, 3};
  // acc: [4][kVW] pre-activations i, f, g, o; c updated in place.
  static void update(const float* acc, const float* /*h_prev*/, float* c, float* h) {
#if defined(RNNAD_AVX512_ACTIVATIONS)
    if constexpr (kAvx512) {
      using namespace avx512;
      const __m512 i = sigmoid_ps(_mm512_load_ps(acc));
      const __m512 f = sigmoid_ps(_mm512_load_ps(acc + kVW));
      const __m512 gg = tanh_ps(_mm512_load_ps(acc + 2 * kVW));
      const __m512 o = sigmoid_ps(_mm512_load_ps(acc + 3 * kVW));
      const __m512 cn = _mm512_add_ps(_mm512_mul_ps(f, _mm512_load_ps(c)), _mm512_mul_ps(i, gg));
      _mm512_store_ps(c, cn);
      _mm512_store_ps(h, _mm512_mul_ps(o, tanh_ps(cn)));
      return;
    }
#endif
    lstm_update(acc, kVW, c, h, kVW);
  }
};
struct GruCell {
  static constexpr int kX = 3, kH = 3, kAcc = 4;
  static constexpr std::array<int, 3> xmap{0, 1, 2}, hmap{0, 1, 3};
  // acc: [4][kVW] = r, z (both parts), W_in x + b_in, W_hn h + b_hn.
  static void update(const float* acc, const float* h_prev, float* /*c*/, float* h) {
#if defined(RNNAD_AVX512_ACTIVATIONS)
    if constexpr (kAvx512) {
      using namespace avx512;
      const __m512 r = sigmoid_ps(_mm512_load_ps(acc));
      const __m512 z = sigmoid_ps(_mm512_load_ps(acc + kVW));
      const __m512 nn = tanh_ps(_mm512_fmadd_ps(r, _mm512_load_ps(acc + 3 * kVW), _mm512_load_ps(acc + 2 * kVW)));
      const __m512 one_minus_z = _mm512_sub_ps(_mm512_set1_ps(1.0f), z);
      _mm512_store_ps(h, _mm512_add_ps(_mm512_mul_ps(one_minus_z, nn), _mm512_mul_ps(z, _mm512_load_ps(h_prev))));
      return;
    }
#endif
    for (int u = 0; u < kVW; ++u) {
      const float r = sigmoid_f32(acc[u]);
      const float z = sigmoid_f32(acc[kVW + u]);
      const float nn = tanh_f32(acc[2 * kVW + u] + r * acc[3 * kVW + u]);
      h[u] = (1.0f - z) * nn + z * h_prev[u];
    }
  }
};

// acc[r][map[g]] += a[r, k] w[k][g] for the MR rows of a (stride lda), k ascending over
// [0, k_count), w [k_count][NG][kVW]: one part (input or recurrent) of a gate block's product.
template <int MR, int NA, std::size_t NG>
[[gnu::always_inline]] inline void multiply_add(Packet (&acc)[MR][NA], const float* a, int64_t lda, int64_t k_count,
                                                const float* w, const std::array<int, NG>& map) {
  for (int64_t k = 0; k < k_count; ++k, w += NG * kVW) {
    Packet wk[NG];
    for (std::size_t g = 0; g < NG; ++g) wk[g] = ei::pload<Packet>(w + g * kVW);
    for (int r = 0; r < MR; ++r) {
      const Packet ak = ei::pset1<Packet>(a[r * lda + k]);
      for (std::size_t g = 0; g < NG; ++g) acc[r][map[g]] = ei::pmadd(ak, wk[g], acc[r][map[g]]);
    }
  }
}

// Pre-activations of MR rows x kVW units: out[MR][kAcc][kVW] (row stride ld_out) = init + x W_x
// + h W_h, with init [MR][kAcc][kVW] (row stride ld_init; 0: the bias, the same for every row),
// x rows [MR, kx] (stride ldx), h rows [MR, kh] (stride ldh; kh = 0 skips a zero state), and
// the panel's parts wx [kx][kX][kVW], wh [kh][kH][kVW]. Each row sums in one order (init, x
// part with k ascending, h part with k ascending), so splitting a step into a hoisted input
// projection (kh = 0) and a recurrent part (kx = 0, init = that projection) changes no bit.
template <class Cell, int MR>
void gate_block(const float* x, int64_t ldx, int64_t kx, const float* h, int64_t ldh, int64_t kh, const float* wx,
                const float* wh, const float* init, int64_t ld_init, float* out, int64_t ld_out) {
  Packet acc[MR][Cell::kAcc];
  for (int r = 0; r < MR; ++r)
    for (int g = 0; g < Cell::kAcc; ++g) acc[r][g] = ei::pload<Packet>(init + r * ld_init + g * kVW);
  multiply_add(acc, x, ldx, kx, wx, Cell::xmap);
  multiply_add(acc, h, ldh, kh, wh, Cell::hmap);
  for (int r = 0; r < MR; ++r)
    for (int g = 0; g < Cell::kAcc; ++g) ei::pstore(out + r * ld_out + g * kVW, acc[r][g]);
}

template <class Cell>
using BlockFn = void (*)(const float*, int64_t, int64_t, const float*, int64_t, int64_t, const float*, const float*,
                         const float*, int64_t, float*, int64_t);

// gate_block for 1..kMR rows, indexed by rows - 1 (the last block of a tile may be short).
template <class Cell, std::size_t... M>
constexpr std::array<BlockFn<Cell>, sizeof...(M)> block_table(std::index_sequence<M...>) {
  return {&gate_block<Cell, static_cast<int>(M) + 1>...};
}
template <class Cell>
constexpr auto kBlocks = block_table<Cell>(std::make_index_sequence<kMR>{});

template <class Cell>
int64_t panel_floats(int64_t input, int64_t hidden) {
  return (input * Cell::kX + hidden * Cell::kH) * kVW;
}

// PyTorch row of the weight feeding group g's unit j: gate blocks i, f, g, o / r, z, n.
template <class Cell>
void pack_layer(const RnnParams& p, int64_t input, int64_t hidden, int64_t hp, float* panels, float* bias) {
  const bool gru = Cell::kX == 3;
  for (int64_t p0 = 0; p0 < hp; p0 += kVW) {
    float* w = panels + (p0 / kVW) * panel_floats<Cell>(input, hidden);
    for (int64_t k = 0; k < input; ++k)
      for (int g = 0; g < Cell::kX; ++g)
        for (int u = 0; u < kVW; ++u, ++w) {
          const int64_t j = p0 + u;
          *w = j < hidden ? p.weight_ih[(g * hidden + j) * input + k] : 0.0f;
        }
    for (int64_t k = 0; k < hidden; ++k)
      for (int g = 0; g < Cell::kH; ++g)
        for (int u = 0; u < kVW; ++u, ++w) {
          const int64_t j = p0 + u;
          *w = j < hidden ? p.weight_hh[(g * hidden + j) * hidden + k] : 0.0f;
        }
    float* b = bias + (p0 / kVW) * Cell::kAcc * kVW;
    for (int a = 0; a < Cell::kAcc; ++a)
      for (int u = 0; u < kVW; ++u) {
        const int64_t j = p0 + u;
        float v = 0.0f;
        if (j < hidden && p.bias_ih) {
          if (!gru) v = p.bias_ih[a * hidden + j] + p.bias_hh[a * hidden + j];     // LSTM: b_ih + b_hh
          else if (a < 2) v = p.bias_ih[a * hidden + j] + p.bias_hh[a * hidden + j];  // r, z
          else if (a == 2) v = p.bias_ih[2 * hidden + j];                            // b_in
          else v = p.bias_hh[2 * hidden + j];                                        // b_hn
        }
        b[a * kVW + u] = v;
      }
  }
}

void copy_rows(float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows, int64_t width) {
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * ld_dst, src + r * ld_src, static_cast<std::size_t>(width) * sizeof(float));
}

}  // namespace

bool TiledRecurrence::supports(const RnnDims& dims) {
  return !dims.bidirectional &&
         ((dims.cell == CellType::Lstm && dims.proj_size == 0) || dims.cell == CellType::Gru);
}

TiledRecurrence::TiledRecurrence(const RnnDims& dims, const std::vector<RnnParams>& params, int64_t max_batch,
                                 Team* team)
    : m_dims(dims), m_hp((dims.hidden_size + kVW - 1) / kVW * kVW), m_ld_gx(m_hp * 4), m_team(team) {
  const bool lstm = dims.cell == CellType::Lstm;
  const int64_t H = dims.hidden_size, L = dims.num_layers, rows = std::min(max_batch, kTileRows);
  for (int64_t l = 0; l < L; ++l) {
    const int64_t I = dims.layer_input_size(l);
    const int64_t n_panels = m_hp / kVW;
    Buffer panels(static_cast<std::size_t>(n_panels * (lstm ? panel_floats<LstmCell>(I, H) : panel_floats<GruCell>(I, H))));
    Buffer bias(static_cast<std::size_t>(n_panels * 4 * kVW));
    if (lstm) pack_layer<LstmCell>(params[l], I, H, m_hp, panels.data(), bias.data());
    else pack_layer<GruCell>(params[l], I, H, m_hp, panels.data(), bias.data());
    m_panels.push_back(std::move(panels));
    m_bias.push_back(std::move(bias));
  }
  // Hoisted mode (shares under kMR rows): projections of m_chunk steps at a time.
  const int64_t small = std::min<int64_t>(max_batch, kMR - 1);
  m_chunk = std::max<int64_t>(1, kHoistChunkBytes / (small * m_ld_gx * int64_t{sizeof(float)}));
  // One part state per thread the team can lend.
  m_parts.resize(team ? static_cast<std::size_t>(std::max(1, team->capacity())) : 1);
  for (PartState& ps : m_parts) {
    for (int64_t l = 0; l < L; ++l) {
      for (int i = 0; i < 2; ++i) ps.h.emplace_back(static_cast<std::size_t>(rows * m_hp), 0.0f);
      if (lstm) ps.c.emplace_back(static_cast<std::size_t>(rows * m_hp), 0.0f);
    }
    ps.gx.assign(static_cast<std::size_t>(m_chunk * small * m_ld_gx), 0.0f);
    ps.x.assign(static_cast<std::size_t>(m_chunk * small * dims.input_size), 0.0f);
    if (L > 1)
      for (Buffer& b : ps.seq) b.assign(static_cast<std::size_t>(m_chunk * small * m_hp), 0.0f);
  }
  m_recurrent_bytes = H * (lstm ? 4 : 3) * m_hp * int64_t{sizeof(float)};
}

int64_t TiledRecurrence::workspace_bytes() const {
  std::size_t n = 0;
  for (const auto* list : {&m_panels, &m_bias})
    for (const Buffer& b : *list) n += b.size();
  for (const PartState& ps : m_parts) {
    for (const auto* list : {&ps.h, &ps.c})
      for (const Buffer& b : *list) n += b.size();
    n += ps.gx.size() + ps.x.size() + ps.seq[0].size() + ps.seq[1].size();
  }
  return static_cast<int64_t>(n * sizeof(float));
}

void TiledRecurrence::forward(int64_t seq_len, int64_t batch, const float* x, const float* h0, const float* c0,
                              float* output, float* h_n, float* c_n) {
  if (m_dims.cell == CellType::Lstm) run<LstmCell>(seq_len, batch, x, h0, c0, output, h_n, c_n);
  else run<GruCell>(seq_len, batch, x, h0, c0, output, h_n, c_n);
}

// The work split (docs/architecture.md, "Threads and determinism"): a batch under one row block
// of a large layer puts every thread on the one recurrence, each on a share of the hidden units,
// meeting at m_barrier after every step; any other batch gives each thread a contiguous share of
// the rows, which needs no synchronisation.
template <class Cell>
void TiledRecurrence::run(int64_t seq_len, int64_t batch, const float* x, const float* h0, const float* c0,
                          float* output, float* h_n, float* c_n) {
  const int64_t team = m_team ? m_team->size() : 1;
  const bool by_units = batch < kMR && team > 1 && m_recurrent_bytes >= kSplitMinBytes &&
                        seq_len * m_dims.num_layers * m_recurrent_bytes >= kSplitMinCallBytes;
  const int parts = static_cast<int>(
      by_units ? std::min<int64_t>(team, m_hp / kVW)
               : std::min<int64_t>({team, static_cast<int64_t>(m_parts.size()), batch}));
  auto part = [&](int i) {
    if (by_units) {
      run_hoisted<Cell>(m_parts[0], seq_len, batch, 0, batch, x, h0 == nullptr, output, i, parts);
      return;
    }
    PartState& ps = m_parts[static_cast<std::size_t>(i)];
    const int64_t begin = batch * i / parts, end = batch * (i + 1) / parts;
    if (end - begin < kMR) {
      load_state(ps, batch, begin, end - begin, h0, c0);
      run_hoisted<Cell>(ps, seq_len, batch, begin, end - begin, x, h0 == nullptr, output, 0, 1);
      store_state(ps, seq_len, batch, begin, end - begin, h_n, c_n);
      return;
    }
    for (int64_t b0 = begin; b0 < end; b0 += kTileRows)
      run_tile<Cell>(ps, seq_len, batch, b0, std::min(kTileRows, end - b0), x, h0, c0, output, h_n, c_n);
  };
  if (by_units) load_state(m_parts[0], batch, 0, batch, h0, c0);
  if (parts == 1) {
    part(0);
  } else {
    if (by_units) m_barrier.reset(parts);
    m_team->run(parts, [](void* f, int i) { (*static_cast<decltype(part)*>(f))(i); }, &part);
  }
  if (by_units) store_state(m_parts[0], seq_len, batch, 0, batch, h_n, c_n);
}

// State of layer l after step t is ps.h[2l + (t & 1)], so the state before step 0 is ps.h[2l + 1].
void TiledRecurrence::load_state(PartState& ps, int64_t batch, int64_t b0, int64_t rows, const float* h0,
                                 const float* c0) {
  const int64_t H = m_dims.hidden_size, hp = m_hp;
  for (int64_t l = 0; l < m_dims.num_layers; ++l) {
    float* h = ps.h[2 * l + 1].data();
    if (h0) copy_rows(h, hp, h0 + (l * batch + b0) * H, H, rows, H);
    else std::fill_n(h, rows * hp, 0.0f);
    if (ps.c.empty()) continue;
    if (c0) copy_rows(ps.c[l].data(), hp, c0 + (l * batch + b0) * H, H, rows, H);
    else std::fill_n(ps.c[l].data(), rows * hp, 0.0f);
  }
}

void TiledRecurrence::store_state(const PartState& ps, int64_t seq_len, int64_t batch, int64_t b0, int64_t rows,
                                  float* h_n, float* c_n) {
  const int64_t H = m_dims.hidden_size, last = (seq_len - 1) & 1;
  for (int64_t l = 0; l < m_dims.num_layers; ++l) {
    copy_rows(h_n + (l * batch + b0) * H, H, ps.h[2 * l + last].data(), m_hp, rows, H);
    if (!ps.c.empty() && c_n) copy_rows(c_n + (l * batch + b0) * H, H, ps.c[l].data(), m_hp, rows, H);
  }
}

// Batch rows [b0, b0 + rows) through every layer and step, each step one fused product.
template <class Cell>
void TiledRecurrence::run_tile(PartState& ps, int64_t seq_len, int64_t batch, int64_t b0, int64_t rows,
                               const float* x, const float* h0, const float* c0, float* output, float* h_n,
                               float* c_n) {
  const int64_t L = m_dims.num_layers, H = m_dims.hidden_size, I = m_dims.input_size, hp = m_hp;
  load_state(ps, batch, b0, rows, h0, c0);
  for (int64_t t = 0; t < seq_len; ++t) {
    const int64_t cur = t & 1, prev = cur ^ 1;
    for (int64_t l = 0; l < L; ++l) {
      const float* in = l == 0 ? x + (t * batch + b0) * I : ps.h[2 * (l - 1) + cur].data();
      float* out = l == L - 1 ? output + (t * batch + b0) * H : nullptr;
      step_layer<Cell>(l, rows, in, l == 0 ? I : hp, ps.h[2 * l + prev].data(), t == 0 && !h0, ps.h[2 * l + cur].data(),
                       ps.c.empty() ? nullptr : ps.c[l].data(), out, nullptr, 0, hp / kVW);
    }
  }
  store_state(ps, seq_len, batch, b0, rows, h_n, c_n);
}

// Batch rows [b0, b0 + rows), rows < kMR: their weights would be streamed once per step and row,
// so the input projections are hoisted out of the recurrence, m_chunk steps at a time, as one
// product over chunk x rows (layer by layer inside a chunk: the next layer's input is this
// chunk's output), and each step only multiplies h_{t-1} by the recurrent part of the panels.
// Part `part` of `parts` (threads of m_team on one ps) computes only its share of the panels
// (hidden units), keeping those weights in its core's L2; the parts meet at m_barrier after every
// step, since the next step reads all of h. States are loaded and stored by the caller.
template <class Cell>
void TiledRecurrence::run_hoisted(PartState& ps, int64_t seq_len, int64_t batch, int64_t b0, int64_t rows,
                                  const float* x, bool zero_state, float* output, int part, int parts) {
  const int64_t L = m_dims.num_layers, H = m_dims.hidden_size, I = m_dims.input_size, hp = m_hp;
  const int64_t P = hp / kVW, pa = P * part / parts, pb = P * (part + 1) / parts;
  const int64_t cols = (pb - pa) * kVW;  // this part's columns of h: [pa kVW, pb kVW)
  for (int64_t t0 = 0; t0 < seq_len; t0 += m_chunk) {
    const int64_t n = std::min(m_chunk, seq_len - t0);
    for (int64_t l = 0; l < L; ++l) {
      if (l == 0 && rows == batch) {  // the chunk's rows are contiguous in x
        project<Cell>(ps, 0, n * rows, x + t0 * batch * I, I, pa, pb);
      } else if (l == 0) {  // a share of the batch (one part per ps): gather its rows
        for (int64_t s = 0; s < n; ++s) copy_rows(ps.x.data() + s * rows * I, I, x + ((t0 + s) * batch + b0) * I, I, rows, I);
        project<Cell>(ps, 0, n * rows, ps.x.data(), I, pa, pb);
      } else {
        project<Cell>(ps, l, n * rows, ps.seq[(l - 1) & 1].data(), hp, pa, pb);
      }
      for (int64_t s = 0; s < n; ++s) {
        const int64_t t = t0 + s, cur = t & 1;
        float* h_next = ps.h[2 * l + cur].data();
        step_layer<Cell>(l, rows, nullptr, 0, ps.h[2 * l + (cur ^ 1)].data(), t == 0 && zero_state, h_next,
                         ps.c.empty() ? nullptr : ps.c[l].data(), l == L - 1 ? output + (t * batch + b0) * H : nullptr,
                         ps.gx.data() + s * rows * m_ld_gx, pa, pb);
        if (l < L - 1) copy_rows(ps.seq[l & 1].data() + s * rows * hp + pa * kVW, hp, h_next + pa * kVW, hp, rows, cols);
        if (parts > 1) m_barrier.wait();
      }
    }
  }
}

// ps.gx rows [0, rows), panels [pa, pb) = bias + in W_x of layer `layer` (in: [rows, K_in],
// stride ld_in), laid out [row][panel][kAcc][kVW].
template <class Cell>
void TiledRecurrence::project(PartState& ps, int64_t layer, int64_t rows, const float* in, int64_t ld_in, int64_t pa,
                              int64_t pb) {
  const int64_t K_in = m_dims.layer_input_size(layer), stride = panel_floats<Cell>(K_in, m_dims.hidden_size);
  for (int64_t p = pa; p < pb; ++p) {
    const float* wx = m_panels[layer].data() + p * stride;
    const float* bias = m_bias[layer].data() + p * Cell::kAcc * kVW;
    for (int64_t r0 = 0; r0 < rows; r0 += kMR) {
      const int64_t mr = std::min<int64_t>(kMR, rows - r0);
      kBlocks<Cell>[mr - 1](in + r0 * ld_in, ld_in, K_in, nullptr, 0, 0, wx, wx, bias, 0,
                            ps.gx.data() + r0 * m_ld_gx + p * Cell::kAcc * kVW, m_ld_gx);
    }
  }
}

// One step of one layer for `rows` rows and the units of panels [pa, pb): h_prev and h_next
// [rows, H_p], c [rows, H_p] in place (LSTM); out (top layer) [rows, H] gets h_next's columns of
// those units. The product starts from the bias and takes in [rows, K_in] (stride ld_in), or
// with gx (hoisted: [rows][panel][kAcc][kVW]) starts from gx and takes no input part.
template <class Cell>
void TiledRecurrence::step_layer(int64_t layer, int64_t rows, const float* in, int64_t ld_in, const float* h_prev,
                                 bool zero_state, float* h_next, float* c, float* out, const float* gx, int64_t pa,
                                 int64_t pb) {
  const int64_t H = m_dims.hidden_size, K_in = m_dims.layer_input_size(layer), hp = m_hp;
  const int64_t kx = gx ? 0 : K_in, kh = zero_state ? 0 : H, stride = panel_floats<Cell>(K_in, H);
  alignas(64) float acc[kMR * Cell::kAcc * kVW];
  for (int64_t p0 = pa * kVW; p0 < pb * kVW; p0 += kVW) {
    const float* wx = m_panels[layer].data() + (p0 / kVW) * stride;
    const float* wh = wx + K_in * Cell::kX * kVW;
    const int64_t panel = (p0 / kVW) * Cell::kAcc * kVW;
    for (int64_t r0 = 0; r0 < rows; r0 += kMR) {
      const int64_t mr = std::min<int64_t>(kMR, rows - r0);
      const float* init = gx ? gx + r0 * m_ld_gx + panel : m_bias[layer].data() + panel;
      kBlocks<Cell>[mr - 1](in + r0 * ld_in, ld_in, kx, h_prev + r0 * hp, hp, kh, wx, wh, init, gx ? m_ld_gx : 0, acc,
                            Cell::kAcc * kVW);
      for (int64_t r = 0; r < mr; ++r) {
        const int64_t o = (r0 + r) * hp + p0;
        Cell::update(acc + r * Cell::kAcc * kVW, h_prev + o, c ? c + o : nullptr, h_next + o);
      }
    }
  }
  const int64_t j0 = pa * kVW, j1 = std::min(pb * kVW, H);
  if (out && j1 > j0) copy_rows(out + j0, H, h_next + j0, hp, rows, j1 - j0);
}

}  // namespace rnnad::cpu::detail
