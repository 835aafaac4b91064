// StreamPool checkpoints (docs/streaming.md, "Checkpoints"): every stream's state in one
// versioned, checksummed little-endian file, written atomically (temporary file, fsync, rename,
// fsync of the directory) and validated completely before a restore changes anything.
#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>

#include "rnnad/error.h"
#include "stream_pool_impl.h"

namespace rnnad {

using stream_detail::Plan;
using stream_detail::Shard;
using stream_detail::StreamState;

namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are written in the host's little-endian order");

constexpr char kMagic[8] = {'R', 'N', 'A', 'D', 'S', 'T', 'R', 'M'};
constexpr uint32_t kCheckpointVersion = 1;

/// FNV-1a, 64 bit: the checksum and the fingerprints.
struct Fnv {
  uint64_t h = 0xcbf29ce484222325ULL;
  void add(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  }
  template <class T>
  void add(const T& v) {
    add(&v, sizeof v);
  }
  template <class T>
  void add_vector(const std::vector<T>& v) {
    add(v.size());
    add(v.data(), v.size() * sizeof(T));
  }
};

class Writer {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const char*>(&v);
    m_bytes.append(p, sizeof v);
  }
  template <class T>
  void put_fixed(const std::vector<T>& v) {  // size implied by the pool's plan
    if (!v.empty()) m_bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  template <class T>
  void put_sized(const std::vector<T>& v) {
    put<uint64_t>(v.size());
    put_fixed(v);
  }
  std::string& bytes() { return m_bytes; }

 private:
  std::string m_bytes;
};

class Reader {
 public:
  Reader(const std::string& bytes, std::size_t end, std::string file) : m_bytes(bytes), m_end(end), m_file(std::move(file)) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(m_file + ": stream checkpoint: " + what + " (at byte " + std::to_string(m_pos) + ")");
  }
  template <class T>
  T get() {
    T v;
    if (m_end - m_pos < sizeof v) fail("truncated");
    std::memcpy(&v, m_bytes.data() + m_pos, sizeof v);
    m_pos += sizeof v;
    return v;
  }
  template <class T>
  void get_fixed(std::vector<T>& v) {
    const std::size_t n = v.size() * sizeof(T);
    if (n == 0) return;
    if (m_end - m_pos < n) fail("truncated");
    std::memcpy(v.data(), m_bytes.data() + m_pos, n);
    m_pos += n;
  }
  template <class T>
  void get_sized(std::vector<T>& v, std::size_t max, const char* what) {
    const auto n = get<uint64_t>();
    if (n > max) fail(std::string(what) + ": " + std::to_string(n) + " values, at most " + std::to_string(max) + " allowed");
    v.resize(n);
    get_fixed(v);
  }
  bool get_bool(const char* what) {
    const auto b = get<uint8_t>();
    if (b > 1) fail(std::string(what) + " is not 0 or 1");
    return b == 1;
  }
  std::size_t pos() const { return m_pos; }

 private:
  const std::string& m_bytes;
  std::size_t m_pos = 0;
  std::size_t m_end;
  std::string m_file;
};

void put_counters(Writer& w, const StreamCounters& c) {
  for (int64_t v : {c.accepted, c.filled, c.non_finite, c.duplicates, c.out_of_order, c.wrong_features, c.gaps,
                    c.model_non_finite, c.calibration_failures})
    w.put(v);
}

StreamCounters get_counters(Reader& r) {
  StreamCounters c;
  for (int64_t* v : {&c.accepted, &c.filled, &c.non_finite, &c.duplicates, &c.out_of_order, &c.wrong_features, &c.gaps,
                     &c.model_non_finite, &c.calibration_failures}) {
    *v = r.get<int64_t>();
    if (*v < 0) r.fail("a counter is negative");
  }
  return c;
}

void put_tail(Writer& w, const SpotTailState& t) {
  w.put<uint8_t>(t.active);
  w.put(t.t);
  w.put(t.z);
  w.put(t.fit.gamma);
  w.put(t.fit.sigma);
  w.put(t.fit.log_likelihood);
  w.put<uint8_t>(static_cast<uint8_t>(t.fit.estimator));
  w.put<uint64_t>(t.n);
  w.put<uint64_t>(t.n_peaks);
  w.put<uint64_t>(t.peaks_held);
  w.put<uint8_t>(t.fallback);
}

SpotTailState get_tail(Reader& r) {
  SpotTailState t;
  t.active = r.get_bool("spot tail active");
  t.t = r.get<double>();
  t.z = r.get<double>();
  t.fit.gamma = r.get<double>();
  t.fit.sigma = r.get<double>();
  t.fit.log_likelihood = r.get<double>();
  const auto est = r.get<uint8_t>();
  if (est > static_cast<uint8_t>(GpdEstimator::Grimshaw)) r.fail("unknown GPD estimator");
  t.fit.estimator = static_cast<GpdEstimator>(est);
  t.n = r.get<uint64_t>();
  t.n_peaks = r.get<uint64_t>();
  t.peaks_held = r.get<uint64_t>();
  t.fallback = r.get_bool("spot tail fallback");
  return t;
}

void put_stream(Writer& w, const StreamState& s) {
  w.put(s.id);
  put_counters(w, s.counters);
  w.put<uint8_t>(s.has_ts);
  w.put(s.last_ts);
  w.put<uint8_t>(s.has_last);
  w.put_fixed(s.last_raw);
  w.put(s.row);
  w.put(s.seg_start);
  w.put(s.seg_rows);
  w.put(s.emitted);
  w.put_fixed(s.xf);
  w.put_fixed(s.ts);
  w.put_fixed(s.h);
  w.put_fixed(s.c);
  w.put_fixed(s.pred);
  w.put_fixed(s.pred_row);
  w.put_fixed(s.x);
  w.put_fixed(s.acc_score);
  w.put_fixed(s.acc_contrib);
  w.put_fixed(s.acc_count);
  w.put_sized(s.cal);
  w.put<uint8_t>(s.judging);
  w.put(s.static_threshold);
  w.put<uint8_t>(s.spot.has_value());
  if (s.spot) {
    const SpotSnapshot snap = s.spot->snapshot();
    w.put<uint8_t>(snap.calibrated);
    for (int k = 0; k < 2; ++k) {
      put_tail(w, snap.tail[k]);
      w.put(snap.t[k]);
      w.put(snap.z[k]);
      w.put_sized(snap.ring[k]);
      w.put<uint64_t>(snap.ring_next[k]);
    }
    w.put_sized(snap.window);
    w.put<uint64_t>(snap.window_next);
    w.put<uint64_t>(snap.steps);
  }
}

/// Writes `bytes` to `path` atomically; IoError naming the path and the failing call.
void write_atomically(const std::filesystem::path& path, const std::string& bytes) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  auto fail = [&](const char* call) {
    const int err = errno;
    throw IoError(path.string() + ": cannot write the stream checkpoint: " + call + ": " + std::strerror(err));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("open");
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("fsync");
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail("close");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    fail("rename");
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("open directory");
  const int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) fail("fsync directory");
}

}  // namespace

uint64_t StreamPool::Impl::model_fingerprint() const {
  Fnv f;
  const ModelConfig& mc = model->config();
  const std::string summary = config_summary(mc);
  f.add(summary.data(), summary.size());
  f.add_vector(mc.normalization.center);
  f.add_vector(mc.normalization.scale);
  f.add(static_cast<int>(mc.scoring.method));
  f.add(static_cast<int>(mc.scoring.pooling));
  f.add(mc.scoring.stride);
  f.add(mc.scoring.log_det);
  f.add_vector(mc.scoring.mean);
  f.add_vector(mc.scoring.precision);
  for (const auto& [name, w] : model->weights()) {
    f.add(name.data(), name.size());
    f.add_vector(w.values);
  }
  return f.h;
}

namespace {

/// The settings a saved state depends on: the plan's sizes and the threshold.
uint64_t settings_fingerprint(const Plan& p) {
  Fnv f;
  f.add(static_cast<uint8_t>(p.kind));
  for (int64_t v : {p.F, p.T, p.stride, p.Fp, p.P, p.K, p.horizon, p.d, p.layers, p.hidden, p.n_cal}) f.add(v);
  f.add(static_cast<uint8_t>(p.lstm));
  f.add(static_cast<uint8_t>(p.use_spot));
  f.add(p.static_value);
  f.add(p.static_k);
  if (p.use_spot) {
    f.add(p.spot.q);
    f.add(p.spot.level);
    f.add(p.spot.depth);
    f.add(static_cast<int>(p.spot.tails));
    f.add(p.spot.max_excess);
    f.add(p.spot.min_peaks);
    f.add(static_cast<int>(p.spot.few_peaks));
    f.add(static_cast<int>(p.spot.root_search));
  }
  return f.h;
}

}  // namespace

void StreamPool::save(const std::filesystem::path& path) const {
  const Impl& im = *m_impl;
  Writer w;
  w.bytes().append(kMagic, sizeof kMagic);
  w.put(kCheckpointVersion);
  w.put<uint32_t>(0);  // flags, reserved
  w.put(im.model_fingerprint());
  w.put(settings_fingerprint(im.plan));
  // A consistent snapshot: every shard locked (in index order, as everywhere else).
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(im.shards.size());
  for (const auto& sh : im.shards) locks.emplace_back(sh->mutex);
  uint64_t count = 0;
  for (const auto& sh : im.shards) count += sh->streams.size();
  w.put(count);
  for (const auto& sh : im.shards)
    for (const auto& [id, s] : sh->streams) put_stream(w, *s);
  locks.clear();
  Fnv sum;
  sum.add(w.bytes().data(), w.bytes().size());
  w.put(sum.h);
  write_atomically(path, w.bytes());
}

void StreamPool::restore(const std::filesystem::path& path) {
  Impl& im = *m_impl;
  const Plan& p = im.plan;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open the stream checkpoint");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw IoError(path.string() + ": cannot read the stream checkpoint");
  const std::string file = path.string();
  constexpr std::size_t kHeader = sizeof kMagic + 4 + 4 + 8 + 8 + 8, kSum = 8;
  if (bytes.size() < kHeader + kSum || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw FormatError(file + ": not an rnnad stream checkpoint (bad magic or shorter than its header)");
  Reader r(bytes, bytes.size() - kSum, file);
  r.get<uint64_t>();  // magic, checked above
  const auto version = r.get<uint32_t>();
  if (version > kCheckpointVersion)
    throw UnsupportedError(file + ": stream checkpoint version " + std::to_string(version) + " is newer than this build's " +
                           std::to_string(kCheckpointVersion));
  if (version < 1) throw FormatError(file + ": stream checkpoint version 0 is not valid");
  uint64_t stored_sum;
  std::memcpy(&stored_sum, bytes.data() + bytes.size() - kSum, kSum);
  Fnv sum;
  sum.add(bytes.data(), bytes.size() - kSum);
  if (sum.h != stored_sum) throw FormatError(file + ": stream checkpoint checksum mismatch (the file is damaged)");
  if (r.get<uint32_t>() != 0) r.fail("unknown flags");
  if (r.get<uint64_t>() != im.model_fingerprint())
    throw Error(file + ": the stream checkpoint was saved for another model (fingerprint differs from " +
                im.model->source() + ")");
  if (r.get<uint64_t>() != settings_fingerprint(p))
    throw Error(file + ": the stream checkpoint was saved with other threshold or window settings");
  const auto count = r.get<uint64_t>();

  // Parse everything into new shards' maps first; nothing changes until the whole file is valid.
  std::vector<std::unordered_map<uint64_t, std::unique_ptr<StreamState>>> maps(im.shards.size());
  for (uint64_t i = 0; i < count; ++i) {
    const auto id = r.get<uint64_t>();
    auto s = im.make_stream(id);
    s->counters = get_counters(r);
    s->has_ts = r.get_bool("has_ts");
    s->last_ts = r.get<int64_t>();
    s->has_last = r.get_bool("has_last");
    r.get_fixed(s->last_raw);
    s->row = r.get<int64_t>();
    s->seg_start = r.get<int64_t>();
    s->seg_rows = r.get<int64_t>();
    s->emitted = r.get<int64_t>();
    if (s->seg_start < 0 || s->seg_rows < 0 || s->emitted < 0 || s->emitted > s->seg_rows ||
        s->row != s->seg_start + s->seg_rows || s->seg_rows - s->emitted > p.T)
      r.fail("stream " + std::to_string(id) + ": row positions out of range");
    r.get_fixed(s->xf);
    r.get_fixed(s->ts);
    r.get_fixed(s->h);
    r.get_fixed(s->c);
    r.get_fixed(s->pred);
    r.get_fixed(s->pred_row);
    for (int64_t q : s->pred_row)
      if (q < -1 || q >= s->seg_rows) r.fail("stream " + std::to_string(id) + ": prediction row out of range");
    r.get_fixed(s->x);
    r.get_fixed(s->acc_score);
    r.get_fixed(s->acc_contrib);
    r.get_fixed(s->acc_count);
    for (int64_t n : s->acc_count)
      if (n < 0 || n > p.T) r.fail("stream " + std::to_string(id) + ": window count out of range");
    r.get_sized(s->cal, static_cast<std::size_t>(p.n_cal), "calibration scores");
    s->cal.reserve(static_cast<std::size_t>(p.n_cal));
    s->judging = r.get_bool("judging");
    s->static_threshold = r.get<double>();
    if (r.get_bool("has_spot")) {
      if (!p.use_spot) r.fail("stream " + std::to_string(id) + ": SPOT state for a static threshold");
      SpotSnapshot snap;
      snap.calibrated = r.get_bool("spot calibrated");
      for (int k = 0; k < 2; ++k) {
        snap.tail[k] = get_tail(r);
        snap.t[k] = r.get<double>();
        snap.z[k] = r.get<double>();
        r.get_sized(snap.ring[k], p.spot.max_excess, "spot ring");
        snap.ring_next[k] = r.get<uint64_t>();
      }
      r.get_sized(snap.window, p.spot.depth, "dspot window");
      snap.window_next = r.get<uint64_t>();
      snap.steps = r.get<uint64_t>();
      s->spot.emplace(p.spot);
      try {
        s->spot->restore(snap);
      } catch (const Error& e) {
        r.fail("stream " + std::to_string(id) + ": " + e.what());
      }
    }
    if (s->judging && p.use_spot && !s->spot) r.fail("stream " + std::to_string(id) + ": judging without SPOT state");
    if (!s->judging && !s->cal.empty() && static_cast<int64_t>(s->cal.size()) >= p.n_cal)
      r.fail("stream " + std::to_string(id) + ": calibration already complete");
    auto& map = maps[im.shard_index(id)];
    if (!map.emplace(id, std::move(s)).second) r.fail("stream " + std::to_string(id) + " appears twice");
  }
  if (r.pos() != bytes.size() - kSum) r.fail("unexpected bytes after the last stream");

  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(im.shards.size());
  for (const auto& sh : im.shards) locks.emplace_back(sh->mutex);
  for (std::size_t k = 0; k < im.shards.size(); ++k) im.shards[k]->streams = std::move(maps[k]);
}

}  // namespace rnnad
