// The input of `rnnad stream` (docs/streaming.md, "rnnad stream"): lines
// `stream_id,timestamp,v1,...,vF` parsed into StreamPool samples, and the stream names of a run
// with their 64-bit StreamPool ids.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rnnad::cli {

/// How the timestamps of a run are written; fixed by the first data line.
enum class TimeForm { Unknown, Integer, DateTime };

/// Why a line was rejected before it reached the pool: a reason key (counted in the summary)
/// and the message after "<input>:<line>: ".
struct LineError {
  const char* reason = "";  ///< "wrong_features", "bad_stream_id", "bad_timestamp", "bad_value"
  std::string message;
};

/// One data line, parsed. `name` points into the line.
struct ParsedLine {
  std::string_view name;
  int64_t timestamp = 0;
};

/// Parses one line (without its '\n'; a trailing '\r' is removed) of `features` values.
/// Fields are split at every ',' (no quoting: stream ids cannot hold a comma) and trimmed of
/// spaces and tabs. stream_id: any non-empty text. timestamp: a decimal integer (int64, the
/// caller's clock) or a date-time as `detect` reads it (parse_timestamp_cell: seconds since
/// 1970); the first data line fixes the form in `form`, a later line in the other form is
/// rejected. Values: parse_value_cell (a float; empty/NaN/NA/null -> NaN and inf -> +infinity,
/// both left to the pool's missing policy); text that is not a number or outside the float range
/// is rejected. Writes the values to `values` [features]. Returns the error of a rejected line.
std::optional<LineError> parse_stream_line(std::string_view line, std::size_t features, TimeForm& form,
                                           ParsedLine& out, std::span<double> values);

/// Whether the first line of an input is a header: its timestamp field is neither an integer nor
/// a date-time and its first value field is not a number (e.g. `stream,timestamp,value`).
bool is_header_line(std::string_view line);

/// The stream names seen in a run and their StreamPool ids. A name written as a canonical decimal
/// integer below 2^64 ("17"; no sign, no leading zero) is its own id, so ids agree with a library
/// caller's and with checkpoints the library wrote; any other name gets FNV-1a 64 of its bytes.
/// Ids are thus a function of the name alone and survive a checkpoint with no name table; two
/// names with one id (a hash collision, about n^2 / 2^65 for n names) are detected and the second
/// is refused.
class StreamNames {
 public:
  /// The id of `name` (registered or not).
  static uint64_t id_of(std::string_view name);
  /// The registered id of `name`, or nullopt.
  std::optional<uint64_t> find(std::string_view name) const;
  /// Registers `name`; false when another registered name has its id (nothing registered).
  bool add(std::string_view name);
  /// The name of a registered id as a JSON string literal (escaped, invalid UTF-8 replaced by
  /// U+FFFD); for an id never registered in this run (a restored stream), its decimal number as
  /// a JSON string.
  std::string json(uint64_t id) const;
  /// Registered ids, in the order their names were first seen.
  const std::vector<uint64_t>& ids() const { return m_order; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> m_by_name;
  std::unordered_map<uint64_t, std::string> m_json;  ///< id -> JSON string literal of its name
  std::vector<uint64_t> m_order;
};

/// SIGINT and SIGTERM as a request to stop reading (the run then finishes cleanly): while an
/// object lives they are caught (stop_signal() says which arrived) and blocked except inside
/// LineReader::read()'s wait, so a batch is never interrupted half-way. Create it before any
/// thread (threads inherit the blocked mask, so the signal reaches the reading thread). The
/// previous handlers and mask are restored by the destructor.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  /// The signal that arrived (SIGINT, SIGTERM), or 0.
  static int stop_signal();
  /// The mask to wait with: the previous one with SIGINT and SIGTERM unblocked.
  const sigset_t* wait_mask() const { return &m_wait; }

 private:
  struct sigaction m_int {}, m_term {};
  sigset_t m_mask{}, m_wait{};
};

/// Lines of a file or of stdin, read as they arrive: read() waits until input is available (or a
/// stop signal arrives), reads what is there (up to 1 MiB) and never waits for more, so a line
/// written to a pipe is handed out as soon as its '\n' has been read.
class LineReader {
 public:
  /// Longest line kept (1 MiB); a longer one is handed out once as `too_long` and skipped.
  static constexpr std::size_t kMaxLine = std::size_t{1} << 20;
  /// `path` "-" is stdin. Throws IoError "<path>: cannot open: <reason>".
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// Waits for input with `signals`' mask and reads it. Returns false at the end of the input,
  /// or when a stop signal arrived (StopSignals::stop_signal()). Throws IoError naming the input.
  bool read(const StopSignals& signals);
  /// One line.
  struct Line {
    std::string_view text;  ///< without its '\n'; valid until the next read()
    int64_t number = 0;     ///< 1-based line number
    bool too_long = false;  ///< longer than kMaxLine (text empty)
  };
  /// The next complete line read so far; at the end of the input also an unterminated last line.
  std::optional<Line> next_line();
  /// "<stdin>" or the path, for messages.
  const std::string& name() const { return m_name; }

 private:
  int m_fd = 0;
  std::string m_name, m_buffer;
  std::vector<char> m_chunk;  ///< one read's bytes
  std::size_t m_start = 0;  ///< first byte of m_buffer not handed out
  int64_t m_lines = 0;
  bool m_eof = false, m_skipping = false;
};

}  // namespace rnnad::cli
