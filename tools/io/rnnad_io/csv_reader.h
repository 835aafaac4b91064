// Reading a time series from a CSV file (RFC 4180, parsed by libcsv) into an rnnad::Series.
// Which columns are read, how cells are parsed and every error: docs/input.md.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "rnnad/series.h"

namespace rnnad {

/// Whether the first record is a header.
enum class CsvHeader {
  Auto,     ///< a header when some field of the first record is neither a number, a missing
            ///< marker nor a timestamp (SMD files, all numbers, have none)
  Present,  ///< the first record is a header
  Absent,   ///< the first record is data; columns are named m1, m2, ... by column number
};

/// Where the timestamps are.
enum class CsvTimestamp {
  Auto,    ///< the header column named timestamp, time, date or datetime (any case); none without a header
  None,    ///< no timestamp column: rows are indices
  Column,  ///< the column CsvOptions::timestamp_column
};

/// Options of read_csv_series. A column reference is a header name (exact match), or else a
/// 1-based column number written in decimal digits.
struct CsvOptions {
  CsvHeader header = CsvHeader::Auto;
  CsvTimestamp timestamp = CsvTimestamp::Auto;
  std::string timestamp_column;            ///< CsvTimestamp::Column: a column reference
  std::vector<std::string> value_columns;  ///< feature order; empty = every column but the timestamp
  char delimiter = ',';
};

/// Reads a CSV file into a Series: the chosen value columns as float (missing cells as NaN, for
/// prepare_series to reject or fill), the timestamps as seconds, the 1-based line of each row.
/// The file is streamed in 1 MiB blocks; memory is the Series (4·F + 8 + 8 bytes per row with a
/// timestamp column) plus the longest field. A UTF-8 BOM and CRLF line ends are accepted; blank
/// lines before the first and after the last record are ignored, a blank line between records is
/// a record with one empty field. Line numbers count LF characters.
/// Throws IoError "<file>: ..." (missing, not a regular file, unreadable) and FormatError
/// "<file>:<line>:<column>: ..." naming the column and the field (empty file, header only,
/// malformed quoting, wrong field count, not a number, infinite, outside the float range, bad
/// timestamp, unknown or ambiguous column reference).
Series read_csv_series(const std::filesystem::path& path, const CsvOptions& options = {});

}  // namespace rnnad
