// CSV input (rnnad_io: read_csv_series, csv_cells.h) and the input policy applied to what it
// reads: every error names the file, line and column; field cases F15 and F17 from their CSV
// files; the bundled NAB and SMD data. Fixtures are written into a scratch directory.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/labels.h"
#include "rnnad/series.h"
#include "rnnad_io/csv_cells.h"
#include "rnnad_io/csv_reader.h"
#include "scratch_files.h"

namespace fs = std::filesystem;
using rnnad::CellStatus;
using rnnad::CsvHeader;
using rnnad::CsvOptions;
using rnnad::CsvTimestamp;
using rnnad::InputPolicy;
using rnnad::PrepareReport;
using rnnad::Series;
using rnnad::SeriesSegment;
using rnnad::test::require_format_error;
using rnnad::test::require_throws;
using rnnad::test::write_file;

namespace {

fs::path models_dir() {
  const char* env = std::getenv("RNNAD_MODELS_DIR");
  if (env == nullptr || *env == '\0') FAIL("RNNAD_MODELS_DIR is not set (CTest sets it to the repository's models/)");
  return env;
}

/// Writes `text` to scratch/<name> and reads it.
Series read_text(const std::string& name, const std::string& text, const CsvOptions& options = {}) {
  return rnnad::read_csv_series(write_file(name, text), options);
}

/// Expects read_text to throw FormatError with every part (the file name is the scratch path).
void require_read_error(const std::string& name, const std::string& text, std::initializer_list<std::string> parts,
                        const CsvOptions& options = {}) {
  const std::string msg = require_format_error([&] { read_text(name, text, options); }, parts);
  CHECK(msg.find(name) != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);  // one line
}

int64_t ts(const char* text) { return rnnad::parse_timestamp(text, "test"); }

}  // namespace

TEST_CASE("Value cells: numbers, missing markers, infinities, float range", "[csv][cells]") {
  CHECK(rnnad::parse_value_cell("1.5").value == 1.5f);
  CHECK(rnnad::parse_value_cell(" -2.25\t").value == -2.25f);
  CHECK(rnnad::parse_value_cell("+3e2").value == 300.0f);
  CHECK(rnnad::parse_value_cell(".5").value == 0.5f);
  CHECK(rnnad::parse_value_cell("73.96732207").value == 73.96732207f);  // parsed in double, rounded once
  for (const char* missing : {"", "  ", "NaN", "nan", "-nan", "NA", "n/a", "NULL"}) {
    INFO(missing);
    const rnnad::ValueCell c = rnnad::parse_value_cell(missing);
    CHECK(c.status == CellStatus::Missing);
    CHECK(std::isnan(c.value));
  }
  for (const char* bad : {"abc", "1.5x", "1,5", "0x10", "++1", "+-1", "1 2", "-"})
    CHECK(rnnad::parse_value_cell(bad).status == CellStatus::NotNumber);
  for (const char* inf : {"inf", "-Infinity", "+INF"})
    CHECK(rnnad::parse_value_cell(inf).status == CellStatus::Infinite);
  // Largest float 3.40282347e+38; values that round to it are accepted, the rest overflow.
  CHECK(rnnad::parse_value_cell("3.4028235e38").value == 3.40282347e38f);
  CHECK(rnnad::parse_value_cell("-3.4028235e38").value == -3.40282347e38f);
  for (const char* big : {"3.5e38", "1e39", "-1e39", "1e400", "123456789e400"})
    CHECK(rnnad::parse_value_cell(big).status == CellStatus::OutOfRange);
  // Magnitudes below the float (or double) range round to zero, as any rounding would.
  for (const char* tiny : {"1e-50", "1e-400", "-1e-400", "0.000001e-400"}) {
    INFO(tiny);
    const rnnad::ValueCell c = rnnad::parse_value_cell(tiny);
    CHECK(c.status == CellStatus::Ok);
    CHECK(c.value == 0.0f);
  }
  CHECK(rnnad::describe_cell("1e39", CellStatus::OutOfRange) ==
        "'1e39' is outside the float range (|x| <= 3.40282347e+38)");
}

TEST_CASE("Timestamp cells: NAB form, ISO 8601 with T and Z", "[csv][cells]") {
  const int64_t t = ts("2024-03-01 00:01:00");
  CHECK(rnnad::parse_timestamp_cell("2024-03-01 00:01:00") == t);
  CHECK(rnnad::parse_timestamp_cell("2024-03-01T00:01:00Z") == t);
  CHECK(rnnad::parse_timestamp_cell("2024-03-01T00:01:00") == t);
  CHECK(rnnad::parse_timestamp_cell(" 2024-03-01 00:01:00.000000 ") == t);
  CHECK_THROWS_WITH(rnnad::parse_timestamp_cell("2024-03-01T25:00:00Z"),
                    Catch::StartsWith("bad timestamp '2024-03-01T25:00:00Z': "));
  CHECK_THROWS_WITH(rnnad::parse_timestamp_cell("2024-03-01T00:00:00+02:00"),
                    Catch::StartsWith("bad timestamp '2024-03-01T00:00:00+02:00'"));
  CHECK_THROWS_WITH(rnnad::parse_timestamp_cell(""), "missing timestamp (empty cell)");
  CHECK(rnnad::is_timestamp_cell("2013-12-02 21:15:00"));
  CHECK_FALSE(rnnad::is_timestamp_cell("timestamp"));
  for (const char* name : {"timestamp", "Time", "DATE", "DateTime"}) CHECK(rnnad::is_timestamp_name(name));
  for (const char* name : {"timestamps", "t", "value", ""}) CHECK_FALSE(rnnad::is_timestamp_name(name));
}

TEST_CASE("Files that cannot be read are IoErrors naming the file", "[csv]") {
  const fs::path missing = rnnad::test::scratch() / "missing.csv";
  require_throws<rnnad::IoError>([&] { rnnad::read_csv_series(missing); }, {missing.string() + ": no such file"});
  require_throws<rnnad::IoError>([&] { rnnad::read_csv_series(rnnad::test::scratch()); }, {": not a regular file"});
}

TEST_CASE("Empty files and header-only files are errors", "[csv]") {
  require_read_error("empty.csv", "", {"empty.csv: empty file (no header, no rows)"});
  require_read_error("blank.csv", "\n\r\n  \n", {"blank.csv: empty file"});
  require_read_error("bom_only.csv", "\xEF\xBB\xBF", {"bom_only.csv: empty file"});
  require_read_error("header.csv", "timestamp,value\n",
                     {"header.csv:2: header only, no data rows (header: timestamp, value)"});
  require_read_error("header2.csv", "timestamp,value\n\n\n", {"header2.csv:4: header only"});
}

TEST_CASE("Cell errors name file, line, column and the field", "[csv]") {
  const std::string head = "timestamp,value\n2024-01-01 00:00:00,1.0\n";
  require_read_error("nan_text.csv", head + "2024-01-01 00:01:00,abc\n",
                     {"nan_text.csv:3:2: column 'value': 'abc' is not a number"});
  require_read_error("overflow.csv", head + "2024-01-01 00:01:00,1e39\n",
                     {"overflow.csv:3:2: column 'value': '1e39' is outside the float range (|x| <= 3.40282347e+38)"});
  require_read_error("inf.csv", head + "2024-01-01 00:01:00,-inf\n",
                     {"inf.csv:3:2: column 'value': '-inf' is infinite"});
  require_read_error("bad_time.csv", head + "2024-01-01 24:00:00,2\n",
                     {"bad_time.csv:3:1: column 'timestamp': bad timestamp '2024-01-01 24:00:00'"});
  require_read_error("no_time.csv", head + ",2\n",
                     {"no_time.csv:3:1: column 'timestamp': missing timestamp (empty cell)"});
}

TEST_CASE("Rows with the wrong number of fields", "[csv]") {
  require_read_error("short.csv", "a,b,c\n1,2,3\n4,5\n",
                     {"short.csv:3:3: column 'c': missing field: the row has 2 fields, expected 3 (the header's)"});
  require_read_error("long.csv", "a,b\n1,2\n3,4,x5\n",
                     {"long.csv:3:3: unexpected field 'x5': the row has 3 fields, expected 2 (the header's)"});
  require_read_error("one_field.csv", "a,b\n1,2\n3\n",
                     {"one_field.csv:3:2: column 'b': missing field: the row has 1 field, expected 2 (the header's)"});
  require_read_error("long_nohead.csv", "1,2\n3,4,5\n",
                     {"long_nohead.csv:2:3: unexpected field '5'", "(the first row's)"});
  // A blank line between records is a record with one empty field: an error with several columns.
  require_read_error("blank_mid.csv", "a,b\n1,2\n\n3,4\n", {"blank_mid.csv:3:1: blank line, expected 2 fields"});
}

TEST_CASE("Missing cells are read as NaN; the default policy rejects them", "[csv][missing]") {
  const Series s = read_text("holes.csv", "a,b\n1,\n,NaN\n3,4\n");
  REQUIRE(s.rows() == 3);
  CHECK(std::isnan(s.value(0, 1)));
  CHECK(std::isnan(s.value(1, 0)));
  CHECK(std::isnan(s.value(1, 1)));
  CHECK(s.value(2, 1) == 4.0f);
  Series copy = s;
  require_format_error([&] { rnnad::prepare_series(copy); },
                       {"holes.csv:2:2: column 'b': missing value (empty or NaN cell); 3 missing cells in all"});
  // Single column: a blank line between records is an empty cell; blank lines at the end are not rows.
  const Series one = read_text("one.csv", "value\n1\n\n3\n\n\n");
  REQUIRE(one.rows() == 3);
  CHECK(std::isnan(one.value(1, 0)));
  CHECK(one.lines == std::vector<int64_t>{2, 3, 4});
}

TEST_CASE("CRLF line ends, a UTF-8 BOM and quoted fields are accepted", "[csv]") {
  const Series s = read_text("crlf.csv",
                             "\xEF\xBB\xBFtimestamp,\"value\"\r\n"
                             "2024-01-01 00:00:00,\"1.5\"\r\n"
                             "2024-01-01 00:01:00, 2.5 \r\n"
                             "\r\n");
  CHECK(s.timestamp_column == "timestamp");  // the BOM is not part of the first name
  CHECK(s.columns == std::vector<std::string>{"value"});
  CHECK(s.values == std::vector<float>{1.5f, 2.5f});
  CHECK(s.timestamps == std::vector<int64_t>{ts("2024-01-01 00:00:00"), ts("2024-01-01 00:01:00")});
  CHECK(s.lines == std::vector<int64_t>{2, 3});
  // A blank CRLF line between records is one line (one empty cell), not two.
  const Series one = read_text("crlf_one.csv", "value\r\n1\r\n\r\n3\r\n");
  REQUIRE(one.rows() == 3);
  CHECK(std::isnan(one.value(1, 0)));
  CHECK(one.lines == std::vector<int64_t>{2, 3, 4});
  // A quoted field may hold the delimiter and a line break; line numbers count LF characters.
  const Series q = read_text("quoted.csv", "\"name, with comma\",\"multi\nline\"\n1,2\n3,4\n");
  CHECK(q.columns == std::vector<std::string>{"name, with comma", "multi\nline"});
  CHECK(q.lines == std::vector<int64_t>{3, 4});
  // Last line without a line end.
  CHECK(read_text("no_eol.csv", "v\n1\n2").values == std::vector<float>{1, 2});
}

TEST_CASE("Malformed quoting is an error (RFC 4180, libcsv strict mode)", "[csv]") {
  require_read_error("quote_mid.csv", "a,b\n1,2\"3\n", {"quote_mid.csv:2:2: malformed quoting"});
  require_read_error("quote_after.csv", "a,b\n1,\"2\"x\n", {"quote_after.csv:2:2: malformed quoting"});
  require_read_error("quote_open.csv", "a,b\n1,\"2\n", {"quote_open.csv:3: a quoted field is not closed at the end"});
}

TEST_CASE("Header detection and column names", "[csv]") {
  // No header (all numbers): columns m1, m2, ... by column number; no timestamp.
  const Series plain = read_text("plain.csv", "1,2\n3,4\n");
  CHECK(plain.columns == std::vector<std::string>{"m1", "m2"});
  CHECK(plain.column_numbers == std::vector<int64_t>{1, 2});
  CHECK_FALSE(plain.has_timestamps());
  CHECK(plain.lines == std::vector<int64_t>{1, 2});
  // No header with timestamps and missing cells in the first row: still data.
  CsvOptions first_col;
  first_col.timestamp = CsvTimestamp::Column;
  first_col.timestamp_column = "1";
  const Series stamped = read_text("stamped.csv", "2024-01-01 00:00:00,,2\n2024-01-01 00:01:00,3,4\n", first_col);
  CHECK(stamped.rows() == 2);
  CHECK(stamped.columns == std::vector<std::string>{"m2", "m3"});
  CHECK(stamped.timestamp_column_number == 1);
  // Numeric column names need CsvHeader::Present.
  CsvOptions present;
  present.header = CsvHeader::Present;
  const Series numeric = read_text("numeric_names.csv", "10,20\n1,2\n", present);
  CHECK(numeric.columns == std::vector<std::string>{"10", "20"});
  CHECK(numeric.rows() == 1);
  CsvOptions absent;
  absent.header = CsvHeader::Absent;
  require_read_error("forced_absent.csv", "a,b\n1,2\n", {"forced_absent.csv:1:1: column 'm1': 'a' is not a number"},
                     absent);
  // The timestamp column is found by name, any case: timestamp, time, date, datetime.
  const Series named = read_text("time_named.csv", "x,Time,y\n1,2024-01-01 00:00:00,2\n");
  CHECK(named.timestamp_column == "Time");
  CHECK(named.columns == std::vector<std::string>{"x", "y"});
  CHECK(named.column_numbers == std::vector<int64_t>{1, 3});
  require_read_error("two_times.csv", "date,time,v\n2024-01-01,00:00:00,1\n",
                     {"two_times.csv:1: two timestamp columns, 1 'date' and 2 'time'; choose one"});
  // CsvTimestamp::None: no time even with a column called timestamp (then it must not be a value).
  CsvOptions no_time;
  no_time.timestamp = CsvTimestamp::None;
  no_time.value_columns = {"value"};
  const Series untimed = read_text("untimed.csv", "timestamp,value\n2024-01-01 00:00:00,1\n", no_time);
  CHECK_FALSE(untimed.has_timestamps());
  CHECK(untimed.values == std::vector<float>{1});
}

TEST_CASE("Value columns by name or number, in the order given", "[csv]") {
  const std::string text = "timestamp,a,label,b\n2024-01-01 00:00:00,1,x,2\n2024-01-01 00:01:00,3,y,4\n";
  CsvOptions o;
  o.value_columns = {"b", "2"};  // by name, then by number (column 2 = a)
  const Series s = read_text("select.csv", text, o);
  CHECK(s.columns == std::vector<std::string>{"b", "a"});
  CHECK(s.column_numbers == std::vector<int64_t>{4, 2});
  CHECK(s.values == std::vector<float>{2, 1, 4, 3});  // the text column 'label' is not read
  // Every other column is a value by default: 'label' is then not a number.
  require_read_error("select_all.csv", text, {"select_all.csv:2:3: column 'label': 'x' is not a number"});
  o.value_columns = {"c"};
  require_read_error("unknown.csv", text,
                     {"unknown.csv:1: value column 'c' is not a column of the header (timestamp, a, label, b)"}, o);
  o.value_columns = {"5"};
  require_read_error("number.csv", text, {"number.csv: value column 5 is not a column number of this file (1 to 4)"},
                     o);
  o.value_columns = {"a", "2"};
  require_read_error("twice.csv", text, {"twice.csv: value column '2' (column 2) is given twice"}, o);
  o.value_columns = {"timestamp"};
  require_read_error("is_time.csv", text, {"is_time.csv: value column 'timestamp' (column 1) is the timestamp column"},
                     o);
  o.value_columns = {"a"};
  require_read_error("ambiguous.csv", "a,a\n1,2\n", {"ambiguous.csv:1: value column 'a' is ambiguous: columns 1 and 2"},
                     o);
  o.value_columns = {"x"};
  require_read_error("headless_name.csv", "1,2\n",
                     {"headless_name.csv:1: value column 'x' is not a column of this file (it has no header"}, o);
}

// ---------------------------------------------------------------------------------------------
// Field case F15: missing values (empty cells / NaN) in CSV
// ---------------------------------------------------------------------------------------------

TEST_CASE("F15: missing values in CSV", "[csv][missing][field]") {
  const std::string text =
      "timestamp,temp_c,pressure_kpa\n"
      "2024-03-01T00:00:00Z,21.4,101.2\n"
      "2024-03-01T00:01:00Z,21.5,101.3\n"
      "2024-03-01T00:02:00Z,,101.3\n"
      "2024-03-01T00:03:00Z,21.7,NaN\n"
      "2024-03-01T00:04:00Z,21.6,101.1\n"
      "2024-03-01T00:05:00Z,21.8,\n";
  const fs::path path = write_file("f15.csv", text);
  const Series read = rnnad::read_csv_series(path);
  REQUIRE(read.rows() == 6);
  CHECK(read.columns == std::vector<std::string>{"temp_c", "pressure_kpa"});

  SECTION("default: strict error at the first missing cell, with the count of all of them") {
    Series s = read;
    require_format_error([&] { rnnad::prepare_series(s); },
                         {path.string() + ":4:2: column 'temp_c': missing value (empty or NaN cell); 3 missing cells "
                                          "in all; choose interpolate or ffill to fill them"});
  }
  SECTION("interpolate: line 4 temp 21.6, line 5 pressure 101.2, trailing line 7 takes the last value 101.1") {
    Series s = read;
    InputPolicy p;
    p.missing = rnnad::MissingPolicy::Interpolate;
    const PrepareReport r = rnnad::prepare_series(s, p);
    // float(21.5 + (float(21.7) − 21.5)/2) and float(float(101.3) + (float(101.1) − float(101.3))/2).
    CHECK(s.value(2, 0) == 21.6f);
    CHECK(s.value(3, 1) == 101.2f);
    CHECK(s.value(5, 1) == 101.1f);
    CHECK(r.filled == std::vector<rnnad::FilledCell>{{2, 0, 4}, {3, 1, 5}, {5, 1, 7}});
    REQUIRE(r.notes.size() == 1);
    CHECK(r.notes[0] == path.string() +
                            ": filled 3 missing cells (interpolate) at line 4 'temp_c', line 5 "
                            "'pressure_kpa', line 7 'pressure_kpa'");
    for (float v : s.values) CHECK(v != 0.0f);  // never zero-filled
  }
  SECTION("ffill: line 4 temp 21.5, line 5 pressure 101.3, line 7 pressure 101.1") {
    Series s = read;
    InputPolicy p;
    p.missing = rnnad::MissingPolicy::ForwardFill;
    rnnad::prepare_series(s, p);
    CHECK(s.value(2, 0) == 21.5f);
    CHECK(s.value(3, 1) == 101.3f);
    CHECK(s.value(5, 1) == 101.1f);
  }
}

// ---------------------------------------------------------------------------------------------
// Field case F17: irregular, duplicate and out-of-order timestamps
// ---------------------------------------------------------------------------------------------

TEST_CASE("F17: irregular, duplicate and out-of-order timestamps", "[csv][timestamps][field]") {
  const std::string head =
      "timestamp,value\n"
      "2024-06-01T10:00:00Z,5.1\n"
      "2024-06-01T10:05:00Z,5.3\n"
      "2024-06-01T10:10:00Z,5.2\n"
      "2024-06-05T08:40:00Z,5.4\n"
      "2024-06-05T08:45:00Z,5.4\n";
  const std::string tail = "2024-06-05T08:45:00Z,5.6\n2024-06-05T08:40:00Z,5.5\n";
  const fs::path full = write_file("f17.csv", head + tail);
  InputPolicy policy;

  SECTION("strict: line 7 is a duplicate of line 6; with line 7 dropped, line 8 goes back in time") {
    Series s = rnnad::read_csv_series(full);
    require_format_error([&] { rnnad::prepare_series(s, policy); },
                         {full.string() + ":7:1: duplicate timestamp 2024-06-05 08:45:00 (also on line 6)"});
    Series s2 = rnnad::read_csv_series(full);
    policy.duplicates = rnnad::DuplicatePolicy::KeepFirst;
    require_format_error([&] { rnnad::prepare_series(s2, policy); },
                         {full.string() + ":8:1: timestamp not increasing: 2024-06-05 08:40:00 after 2024-06-05 "
                                          "08:45:00 on line 7"});
  }
  SECTION("without lines 7-8: a reported gap, and no window of the model spans lines 4 and 5") {
    Series s = rnnad::read_csv_series(write_file("f17_gap.csv", head));
    const PrepareReport r = rnnad::prepare_series(s, policy);
    CHECK(r.median_step == 300);
    REQUIRE(r.gaps.size() == 1);
    CHECK(r.gaps[0].line_before == 4);
    CHECK(r.gaps[0].line_after == 5);
    CHECK(r.gaps[0].step() == 3 * 86400 + 22 * 3600 + 30 * 60);
    REQUIRE(r.notes.size() == 1);
    CHECK_THAT(r.notes[0], Catch::EndsWith(": gap of 3 days 22:30 between lines 4 and 5 (median step 5m); windows do "
                                           "not cross it"));
    CHECK(r.segments == std::vector<SeriesSegment>{{0, 3}, {3, 5}});
    // A window of 3 fits the first segment only; the second (2 rows) is skipped.
    rnnad::ModelConfig c;
    c.model_kind = rnnad::ModelKind::Reconstruction;
    c.reconstruction.seq_len = 3;
    c.reconstruction.input_size = 1;
    const rnnad::ModelFit fit = rnnad::check_model_fit(s, r, c);
    CHECK(fit.usable == std::vector<SeriesSegment>{{0, 3}});
    CHECK(fit.skipped == std::vector<SeriesSegment>{{3, 5}});
    // Bridging is explicit.
    Series b = rnnad::read_csv_series(write_file("f17_gap.csv", head));
    policy.bridge_gaps = true;
    CHECK(rnnad::prepare_series(b, policy).segments == std::vector<SeriesSegment>{{0, 5}});
  }
  SECTION("sort + keep-first / keep-last, and ignoring time, are explicit choices") {
    Series first = rnnad::read_csv_series(full);
    policy.order = rnnad::OrderPolicy::Sort;
    policy.duplicates = rnnad::DuplicatePolicy::KeepFirst;
    const PrepareReport r = rnnad::prepare_series(first, policy);
    CHECK(first.lines == std::vector<int64_t>{2, 3, 4, 5, 6});
    CHECK(first.values == std::vector<float>{5.1f, 5.3f, 5.2f, 5.4f, 5.4f});
    CHECK(r.reordered_lines == std::vector<int64_t>{8});
    REQUIRE(r.notes.size() == 3);
    CHECK_THAT(r.notes[0], Catch::EndsWith(": sorted by timestamp: 1 row was out of order (line 8)"));
    CHECK_THAT(r.notes[1], Catch::EndsWith(": dropped 2 rows with a repeated timestamp (keep-first): line 8 (kept line "
                                           "5), line 7 (kept line 6)"));
    CHECK(r.dropped ==
          std::vector<rnnad::DroppedRow>{{8, 5, ts("2024-06-05 08:40:00")}, {7, 6, ts("2024-06-05 08:45:00")}});
    CHECK(r.segments == std::vector<SeriesSegment>{{0, 3}, {3, 5}});

    Series last = rnnad::read_csv_series(full);
    policy.duplicates = rnnad::DuplicatePolicy::KeepLast;
    rnnad::prepare_series(last, policy);
    CHECK(last.lines == std::vector<int64_t>{2, 3, 4, 8, 7});
    CHECK(last.values == std::vector<float>{5.1f, 5.3f, 5.2f, 5.5f, 5.6f});

    Series ignored = rnnad::read_csv_series(full);
    policy.order = rnnad::OrderPolicy::Ignore;
    const PrepareReport ri = rnnad::prepare_series(ignored, policy);
    CHECK(ignored.rows() == 7);
    CHECK(ri.segments == std::vector<SeriesSegment>{{0, 7}});
    CHECK(ri.gaps.empty());
  }
}

// ---------------------------------------------------------------------------------------------
// The bundled real data
// ---------------------------------------------------------------------------------------------

TEST_CASE("Bundled NAB machine temperature reads cleanly", "[csv][data]") {
  const fs::path path = models_dir() / "data" / "machine_temperature_system_failure.csv";
  const Series s = rnnad::read_csv_series(path);
  REQUIRE(s.rows() == 22695);
  CHECK(s.timestamp_column == "timestamp");
  CHECK(s.columns == std::vector<std::string>{"value"});
  CHECK(s.timestamps.front() == ts("2013-12-02 21:15:00"));
  CHECK(s.timestamps.back() == ts("2014-02-19 15:25:00"));
  CHECK(s.values.front() == 73.96732207f);
  CHECK(s.values.back() == 96.90386085f);
  CHECK(s.lines.front() == 2);
  CHECK(s.lines.back() == 22696);

  // The file goes back 55 minutes at line 10151 and repeats 02:00-02:55 of 2014-01-07 (12 rows).
  Series strict = s;
  require_format_error([&] { rnnad::prepare_series(strict); },
                       {":10151:1: timestamp not increasing: 2014-01-07 02:00:00 after 2014-01-07 02:55:00 on line "
                        "10150"});
  Series sorted = s;
  InputPolicy p;
  p.order = rnnad::OrderPolicy::Sort;
  p.duplicates = rnnad::DuplicatePolicy::KeepFirst;
  const PrepareReport r = rnnad::prepare_series(sorted, p);
  CHECK(sorted.rows() == 22683);
  CHECK(r.dropped.size() == 12);
  CHECK(r.dropped.front().line == 10151);
  CHECK(r.reordered_lines.size() == 11);  // line 10162 (02:55) equals line 10150's time: not below it
  CHECK(r.median_step == 300);
  CHECK(r.gaps.empty());
  CHECK(r.segments == std::vector<SeriesSegment>{{0, 22683}});
  // File order, as train.py and NAB's scorer read it.
  Series file_order = s;
  p.order = rnnad::OrderPolicy::Ignore;
  const PrepareReport ri = rnnad::prepare_series(file_order, p);
  CHECK(file_order.values == s.values);
  CHECK(ri.notes.empty());
}

TEST_CASE("Bundled SMD machine-1-7 (no header, 38 columns) reads cleanly", "[csv][data]") {
  const fs::path path = models_dir() / "data" / "smd_machine-1-7_test_head2500.csv";
  Series s = rnnad::read_csv_series(path);
  REQUIRE(s.rows() == 2500);
  REQUIRE(s.features() == 38);
  CHECK_FALSE(s.has_timestamps());
  CHECK(s.columns.front() == "m1");  // train.py's names, as the shipped SMD model lists them
  CHECK(s.columns.back() == "m38");
  CHECK(s.value(0, 0) == 0.092784f);
  CHECK(s.value(0, 4) == 0.978044f);
  CHECK(s.value(2499, 0) == 0.010309f);
  CHECK(s.value(2499, 34) == 0.242474f);
  CHECK(s.value(2499, 37) == 0.0f);
  CHECK(s.lines.back() == 2500);
  const PrepareReport r = rnnad::prepare_series(s);
  CHECK(r.segments == std::vector<SeriesSegment>{{0, 2500}});
  CHECK(r.notes.empty());
}
