// read_csv_series: libcsv does the RFC 4180 tokenising (quotes, delimiters, line ends); this
// file tracks lines, decides the header and the columns, and turns cells into a Series.
#include "rnnad_io/csv_reader.h"

#include <csv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "rnnad/error.h"
#include "rnnad_io/csv_cells.h"

namespace rnnad {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kBlockBytes = std::size_t{1} << 20;
constexpr int64_t kReserveAfterRows = 4096;  // rows read before memory is reserved for the rest
constexpr int kSkip = -2, kTimestamp = -1;   // roles of a column that is not a value column
constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::size_t idx(int64_t i) { return static_cast<std::size_t>(i); }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

/// The parser state: libcsv calls on_field / on_row; everything else is ours.
class CsvReader {
 public:
  CsvReader(const fs::path& path, const CsvOptions& options) : m_options(options), m_path(path), m_file(path.string()) {
    m_series.source = m_file;
  }

  /// Reads the whole file (once).
  Series read();

 private:
  static void on_field(void* data, std::size_t len, void* self) {
    static_cast<CsvReader*>(self)->guard(
        [&](CsvReader& r) { r.field(std::string_view(static_cast<const char*>(data), data ? len : 0)); });
  }
  static void on_row(int c, void* self) {
    static_cast<CsvReader*>(self)->guard([&](CsvReader& r) { r.row_end(c); });
  }
  /// libcsv is C: no exception may cross it. The first error is kept and rethrown by feed().
  template <class Fn>
  void guard(Fn&& fn) {
    if (m_error) return;
    try {
      fn(*this);
    } catch (...) {
      m_error = std::current_exception();
    }
  }

  void feed(csv_parser& parser, std::string_view bytes);
  void field(std::string_view text);
  void row_end(int c);
  void start_row();
  void plan_columns();
  int resolve(const std::string& ref, const char* what) const;
  void cell(int64_t column, std::string_view text);
  void finish_row();
  void reserve_rest();
  /// Throws FormatError "<file>:<line>:<column>: column '<name>': <message>" (1-based column).
  [[noreturn]] void fail_at(int64_t line, int64_t column, const std::string& message) const;

  const CsvOptions& m_options;
  fs::path m_path;
  std::string m_file;  // the path as given, the start of every message
  Series m_series;
  std::exception_ptr m_error;
  uintmax_t m_file_bytes = 0, m_bytes_fed = 0;
  int64_t m_line = 1;                  // line being fed (LF characters seen + 1)
  int64_t m_fields = 0;                // fields seen in the current record
  int64_t m_row_line = 0;              // line of the current record's first field
  bool m_after_cr = false;             // the last record ended with CR (its LF is not a blank line)
  std::vector<int64_t> m_blank_lines;  // blank lines not yet known to lie between records
  bool m_planned = false;              // the first record was seen and the columns decided
  bool m_has_header = false;
  std::vector<std::string> m_first;  // fields of the first record, until planned
  int64_t m_width = 0;               // fields per record
  std::vector<std::string> m_names;  // [width] column names
  std::vector<int> m_role;           // [width] kSkip, kTimestamp or the feature index
  std::vector<float> m_row;          // [F] values of the current record
  int64_t m_row_time = 0;
  bool m_reserved = false;
  std::string m_extra;  // the first field beyond m_width in the current record
};

void CsvReader::fail_at(int64_t line, int64_t column, const std::string& message) const {
  const std::string name = column < m_width ? " column '" + m_names[idx(column)] + "':" : "";
  throw FormatError(m_file + ":" + std::to_string(line) + ":" + std::to_string(column + 1) + ":" + name + " " +
                    message);
}

void CsvReader::field(std::string_view text) {
  if (m_fields == 0) start_row();
  if (!m_planned) {
    m_first.emplace_back(text);
  } else if (m_fields < m_width) {
    cell(m_fields, text);
  } else if (m_fields == m_width) {
    m_extra.assign(text);
  }
  ++m_fields;
}

void CsvReader::start_row() {
  m_row_line = m_line;
  if (!m_planned) return;
  // Blank lines between records: a record of one empty field each.
  for (const int64_t line : m_blank_lines) {
    if (m_width != 1)
      throw FormatError(m_file + ":" + std::to_string(line) + ":1: blank line, expected " + std::to_string(m_width) +
                        " fields");
    const int64_t saved = m_row_line;
    m_row_line = line;
    cell(0, "");
    finish_row();
    m_row_line = saved;
  }
  m_blank_lines.clear();
}

void CsvReader::row_end(int c) {
  const bool lf_of_crlf = c == CSV_LF && m_after_cr;
  m_after_cr = c == CSV_CR;
  if (m_fields == 0) {  // a line without fields (CSV_REPALL_NL reports it)
    if (!lf_of_crlf && m_planned) m_blank_lines.push_back(m_line);
    return;
  }
  if (!m_planned) {
    plan_columns();
    m_planned = true;
    if (!m_has_header) {
      for (std::size_t i = 0; i < m_first.size() && i < idx(m_width); ++i) cell(static_cast<int64_t>(i), m_first[i]);
      finish_row();
    }
    m_first.clear();
    m_first.shrink_to_fit();
  } else {
    if (m_fields != m_width) {
      const std::string expected = std::to_string(m_width) + (m_has_header ? " (the header's)" : " (the first row's)");
      if (m_fields < m_width)
        fail_at(m_line, m_fields,
                "missing field: the row has " + std::to_string(m_fields) + (m_fields == 1 ? " field" : " fields") +
                    ", expected " + expected);
      fail_at(m_line, m_width,
              "unexpected field '" + m_extra + "': the row has " + std::to_string(m_fields) + " fields, expected " +
                  expected);
    }
    finish_row();
  }
  m_fields = 0;
}

void CsvReader::cell(int64_t column, std::string_view text) {
  const int role = m_role[idx(column)];
  if (role == kSkip) return;
  if (role == kTimestamp) {
    try {
      m_row_time = parse_timestamp_cell(text);
    } catch (const FormatError& e) {
      fail_at(m_row_line, column, e.what());
    }
    return;
  }
  const ValueCell v = parse_value_cell(text);
  if (v.status != CellStatus::Ok && v.status != CellStatus::Missing)
    fail_at(m_row_line, column, describe_cell(text, v.status));
  m_row[idx(role)] = v.value;
}

void CsvReader::finish_row() {
  m_series.values.insert(m_series.values.end(), m_row.begin(), m_row.end());
  if (m_series.timestamp_column_number > 0) m_series.timestamps.push_back(m_row_time);
  m_series.lines.push_back(m_row_line);
  if (!m_reserved && static_cast<int64_t>(m_series.lines.size()) >= kReserveAfterRows) reserve_rest();
}

/// Reserves room for the rows still to come, estimated from the bytes per row so far (+2%), so
/// the vectors are not doubled (and copied) as they grow; a wrong estimate only costs growth.
void CsvReader::reserve_rest() {
  m_reserved = true;
  if (m_bytes_fed == 0 || m_file_bytes <= m_bytes_fed) return;
  const double rows = static_cast<double>(m_series.lines.size());
  const double total = rows * static_cast<double>(m_file_bytes) / static_cast<double>(m_bytes_fed) * 1.02 + 64.0;
  const auto n = static_cast<std::size_t>(std::min(total, static_cast<double>(m_file_bytes)));
  m_series.values.reserve(n * m_row.size());
  m_series.lines.reserve(n);
  if (m_series.timestamp_column_number > 0) m_series.timestamps.reserve(n);
}

int CsvReader::resolve(const std::string& ref, const char* what) const {
  if (m_has_header) {
    const auto first = std::find(m_names.begin(), m_names.end(), ref);
    if (first != m_names.end()) {
      const auto again = std::find(first + 1, m_names.end(), ref);
      if (again != m_names.end())
        throw FormatError(m_file + ":" + std::to_string(m_row_line) + ": " + what + " '" + ref +
                          "' is ambiguous: columns " + std::to_string(first - m_names.begin() + 1) + " and " +
                          std::to_string(again - m_names.begin() + 1) + " have that name");
      return static_cast<int>(first - m_names.begin());
    }
  }
  if (all_digits(ref) && ref.size() < 10) {
    const int n = std::stoi(ref);
    if (n >= 1 && n <= m_width) return n - 1;
    throw FormatError(m_file + ": " + what + " " + ref + " is not a column number of this file (1 to " +
                      std::to_string(m_width) + ")");
  }
  throw FormatError(m_file + ":" + std::to_string(m_row_line) + ": " + what + " '" + ref + "' is not a column of " +
                    (m_has_header ? "the header (" + join_names(m_names) + ")"
                                  : "this file (it has no header; give a column number)"));
}

/// Decides the header, names the columns and gives each its role, from the first record.
void CsvReader::plan_columns() {
  m_width = static_cast<int64_t>(m_first.size());
  m_has_header =
      m_options.header == CsvHeader::Present ||
      (m_options.header == CsvHeader::Auto && std::any_of(m_first.begin(), m_first.end(), [](const std::string& f) {
         const CellStatus s = parse_value_cell(f).status;
         return s != CellStatus::Ok && s != CellStatus::Missing && !is_timestamp_cell(f);
       }));
  for (int64_t c = 0; c < m_width; ++c) m_names.push_back(m_has_header ? m_first[idx(c)] : "m" + std::to_string(c + 1));
  m_role.assign(idx(m_width), kSkip);

  int time = kSkip;
  if (m_options.timestamp == CsvTimestamp::Column) {
    time = resolve(m_options.timestamp_column, "timestamp column");
  } else if (m_options.timestamp == CsvTimestamp::Auto && m_has_header) {
    for (int c = 0; c < static_cast<int>(m_width); ++c) {
      const std::string& n = m_names[idx(c)];
      if (!is_timestamp_name(n)) continue;
      if (time != kSkip)
        throw FormatError(m_file + ":" + std::to_string(m_row_line) + ": two timestamp columns, " +
                          std::to_string(time + 1) + " '" + m_names[idx(time)] + "' and " + std::to_string(c + 1) +
                          " '" + n + "'; choose one");
      time = c;
    }
  }
  if (time != kSkip) {
    m_role[idx(time)] = kTimestamp;
    m_series.timestamp_column = m_names[idx(time)];
    m_series.timestamp_column_number = time + 1;
  }

  std::vector<int> values;
  if (m_options.value_columns.empty()) {
    for (int c = 0; c < static_cast<int>(m_width); ++c)
      if (c != time) values.push_back(c);
  } else {
    for (const std::string& ref : m_options.value_columns) {
      const int c = resolve(ref, "value column");
      if (m_role[idx(c)] != kSkip)
        throw FormatError(m_file + ": value column '" + ref + "' (column " + std::to_string(c + 1) + ") is " +
                          (c == time ? "the timestamp column" : "given twice"));
      m_role[idx(c)] = 0;  // taken; the feature index is set below
      values.push_back(c);
    }
  }
  if (values.empty()) throw FormatError(m_file + ":" + std::to_string(m_row_line) + ": no value column");
  for (std::size_t k = 0; k < values.size(); ++k) {
    m_role[idx(values[k])] = static_cast<int>(k);
    m_series.columns.push_back(m_names[idx(values[k])]);
    m_series.column_numbers.push_back(values[k] + 1);
  }
  m_row.assign(values.size(), 0.0f);
}

/// Feeds bytes to libcsv one line at a time, so that every callback knows its line.
void CsvReader::feed(csv_parser& parser, std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t lf = bytes.find('\n');
    const std::size_t n = lf == std::string_view::npos ? bytes.size() : lf + 1;
    const std::size_t done = csv_parse(&parser, bytes.data(), n, on_field, on_row, this);
    if (m_error) std::rethrow_exception(m_error);
    if (done != n) {
      const int status = csv_error(&parser);
      if (status == CSV_EPARSE)
        throw FormatError(m_file + ":" + std::to_string(m_line) + ":" + std::to_string(m_fields + 1) +
                          ": malformed quoting (a quote inside an unquoted field, or text after a closing quote)");
      throw IoError(m_file + ":" + std::to_string(m_line) + ": " + csv_strerror(status));
    }
    m_bytes_fed += n;
    if (lf != std::string_view::npos) ++m_line;
    bytes.remove_prefix(n);
  }
}

Series CsvReader::read() {
  std::error_code ec;
  const fs::file_status st = fs::status(m_path, ec);
  if (!fs::exists(st)) throw IoError(m_file + ": no such file");
  if (!fs::is_regular_file(st)) throw IoError(m_file + ": not a regular file");
  m_file_bytes = fs::file_size(m_path, ec);
  const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(m_path.c_str(), "rb"));
  if (!file) throw IoError(m_file + ": cannot open: " + std::strerror(errno));

  csv_parser parser{};
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0) throw Error(m_file + ": csv_init failed");
  const std::unique_ptr<csv_parser, void (*)(csv_parser*)> owner(&parser, csv_free);
  csv_set_delim(&parser, static_cast<unsigned char>(m_options.delimiter));

  std::vector<char> block(kBlockBytes);
  bool first_block = true;
  for (;;) {
    const std::size_t got = std::fread(block.data(), 1, block.size(), file.get());
    if (got == 0) break;
    std::string_view bytes(block.data(), got);
    if (first_block && bytes.substr(0, kBom.size()) == kBom) bytes.remove_prefix(kBom.size());
    first_block = false;
    feed(parser, bytes);
  }
  if (std::ferror(file.get()))
    throw IoError(m_file + ":" + std::to_string(m_line) + ": read error: " + std::strerror(errno));
  if (csv_fini(&parser, on_field, on_row, this) != 0)
    throw FormatError(m_file + ":" + std::to_string(m_line) + ": a quoted field is not closed at the end of the file");
  if (m_error) std::rethrow_exception(m_error);

  if (!m_planned) throw FormatError(m_file + ": empty file (no header, no rows)");
  if (m_series.lines.empty())
    throw FormatError(m_file + ":" + std::to_string(m_line) +
                      ": header only, no data rows (header: " + join_names(m_names) + ")");
  return std::move(m_series);
}

}  // namespace

Series read_csv_series(const std::filesystem::path& path, const CsvOptions& options) {
  CsvReader reader(path, options);
  return reader.read();
}

}  // namespace rnnad
