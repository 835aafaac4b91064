// Lines and stream names of `rnnad stream` (stream_input.h).
#include "stream_input.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>
#include <nlohmann/json.hpp>

#include "rnnad/error.h"
#include "rnnad_io/csv_cells.h"

namespace rnnad::cli {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// The field after `pos` up to the next ',' (or the end); advances `pos` past the comma.
std::string_view next_field(std::string_view line, std::size_t& pos) {
  const std::size_t comma = line.find(',', pos);
  const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
  const std::string_view f = line.substr(pos, end - pos);
  pos = comma == std::string_view::npos ? line.size() + 1 : comma + 1;
  return trim(f);
}

/// A decimal integer (optional '-') that fits int64.
std::optional<int64_t> parse_integer(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

volatile std::sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int signal) { g_stop_signal = signal; }

constexpr std::size_t kChunk = std::size_t{1} << 20;

}  // namespace

std::optional<LineError> parse_stream_line(std::string_view line, std::size_t features, TimeForm& form,
                                           ParsedLine& out, std::span<double> values) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::size_t fields = static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1;
  if (fields != features + 2)
    return LineError{"wrong_features", std::to_string(fields) + " fields, expected " + std::to_string(features + 2) +
                                           " (stream_id, timestamp and the model's " + std::to_string(features) +
                                           (features == 1 ? " value)" : " values)")};
  std::size_t pos = 0;
  out.name = next_field(line, pos);
  if (out.name.empty()) return LineError{"bad_stream_id", "field 1: empty stream id"};

  const std::string_view ts = next_field(line, pos);
  const std::optional<int64_t> integer = parse_integer(ts);
  const TimeForm this_form = integer ? TimeForm::Integer : TimeForm::DateTime;
  if (integer) {
    out.timestamp = *integer;
  } else {
    try {
      out.timestamp = parse_timestamp_cell(ts);
    } catch (const FormatError& e) {
      return LineError{"bad_timestamp", std::string("field 2: ") + e.what() + " (expected an integer or YYYY-MM-DD HH:MM:SS)"};
    }
  }
  if (form == TimeForm::Unknown) form = this_form;
  if (this_form != form)
    return LineError{"bad_timestamp", "field 2: " + quote(ts) + " is " +
                                          (integer ? "an integer but earlier timestamps are date-times"
                                                   : "a date-time but earlier timestamps are integers")};

  for (std::size_t f = 0; f < features; ++f) {
    const std::string_view text = next_field(line, pos);
    const ValueCell cell = parse_value_cell(text);
    switch (cell.status) {
      case CellStatus::Ok:
      case CellStatus::Missing:  // NaN: the pool's missing policy drops or fills it
        values[f] = cell.value;
        break;
      case CellStatus::Infinite:  // always rejected by the pool (non_finite), counted per stream
        values[f] = std::numeric_limits<double>::infinity();
        break;
      case CellStatus::NotNumber:
      case CellStatus::OutOfRange:
        return LineError{"bad_value", "field " + std::to_string(f + 3) + ": " + describe_cell(text, cell.status)};
    }
  }
  return std::nullopt;
}

bool is_header_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t pos = 0;
  next_field(line, pos);
  const std::string_view ts = next_field(line, pos);
  if (parse_integer(ts) || is_timestamp_cell(ts)) return false;
  if (pos > line.size()) return true;  // no value field
  const CellStatus first_value = parse_value_cell(next_field(line, pos)).status;
  return first_value == CellStatus::NotNumber;
}

uint64_t StreamNames::id_of(std::string_view name) {
  const bool canonical = !name.empty() && name.size() <= 20 && (name == "0" || name.front() != '0') &&
                         name.find_first_not_of("0123456789") == std::string_view::npos;
  uint64_t v = 0;
  if (canonical) {
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
    if (ec == std::errc{} && end == name.data() + name.size()) return v;
  }
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

std::optional<uint64_t> StreamNames::find(std::string_view name) const {
  const auto it = m_by_name.find(name);
  if (it == m_by_name.end()) return std::nullopt;
  return it->second;
}

bool StreamNames::add(std::string_view name) {
  const uint64_t id = id_of(name);
  if (m_json.count(id) != 0) return false;
  m_by_name.emplace(std::string(name), id);
  m_json.emplace(id, nlohmann::json(std::string(name)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  m_order.push_back(id);
  return true;
}

std::string StreamNames::json(uint64_t id) const {
  const auto it = m_json.find(id);
  return it != m_json.end() ? it->second : "\"" + std::to_string(id) + "\"";
}

StopSignals::StopSignals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &m_int);
  sigaction(SIGTERM, &sa, &m_term);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &m_mask);
  m_wait = m_mask;
  sigdelset(&m_wait, SIGINT);
  sigdelset(&m_wait, SIGTERM);
}

StopSignals::~StopSignals() {
  pthread_sigmask(SIG_SETMASK, &m_mask, nullptr);  // a pending signal reaches on_stop_signal first
  sigaction(SIGINT, &m_int, nullptr);
  sigaction(SIGTERM, &m_term, nullptr);
}

int StopSignals::stop_signal() { return g_stop_signal; }

LineReader::LineReader(const std::string& path) : m_name(path == "-" ? "<stdin>" : path), m_chunk(kChunk) {
  if (path != "-") {
    m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) throw IoError(path + ": cannot open: " + std::strerror(errno));
  }
}

LineReader::~LineReader() {
  if (m_fd > 0) ::close(m_fd);
}

bool LineReader::read(const StopSignals& signals) {
  if (m_eof) return false;
  m_buffer.erase(0, m_start);  // lines handed out before stay valid until here
  m_start = 0;
  for (;;) {
    if (StopSignals::stop_signal() != 0) return false;
    pollfd p{m_fd, POLLIN, 0};
    if (ppoll(&p, 1, nullptr, signals.wait_mask()) < 0) {
      if (errno == EINTR) continue;
      throw IoError(m_name + ": cannot wait for input: " + std::strerror(errno));
    }
    const ssize_t n = ::read(m_fd, m_chunk.data(), m_chunk.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw IoError(m_name + ": cannot read: " + std::strerror(errno));
    }
    m_buffer.append(m_chunk.data(), static_cast<std::size_t>(n));
    m_eof = n == 0;
    return true;  // at the end once more, for the unterminated last line
  }
}

std::optional<LineReader::Line> LineReader::next_line() {
  for (;;) {
    const std::size_t nl = m_buffer.find('\n', m_start);
    if (nl == std::string::npos) {
      const std::size_t rest = m_buffer.size() - m_start;
      if (m_eof && rest > 0) {
        const std::string_view text(m_buffer.data() + m_start, rest);
        m_start = m_buffer.size();
        if (std::exchange(m_skipping, false)) return std::nullopt;
        ++m_lines;
        return text.size() > kMaxLine ? Line{{}, m_lines, true} : Line{text, m_lines, false};
      }
      if (rest > kMaxLine && !m_skipping) {  // hand it out now: its end may never come
        m_skipping = true;
        m_start = m_buffer.size();
        return Line{{}, ++m_lines, true};
      }
      if (m_skipping) m_start = m_buffer.size();
      return std::nullopt;
    }
    const std::string_view text(m_buffer.data() + m_start, nl - m_start);
    m_start = nl + 1;
    if (std::exchange(m_skipping, false)) continue;  // the end of a line handed out as too long
    ++m_lines;
    return text.size() > kMaxLine ? Line{{}, m_lines, true} : Line{text, m_lines, false};
  }
}

}  // namespace rnnad::cli
