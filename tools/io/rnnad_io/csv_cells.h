// Parsing one CSV cell: a value (float, or missing) or a timestamp. No I/O; used by
// read_csv_series (csv_reader.h). The accepted forms: docs/input.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rnnad {

/// What a value cell holds.
enum class CellStatus {
  Ok,          ///< a finite number that fits a float (tiny magnitudes round to 0)
  Missing,     ///< empty, NaN (any case, any sign), NA, N/A or null (any case)
  NotNumber,   ///< anything else that is not a decimal number
  Infinite,    ///< inf, infinity (any case, any sign)
  OutOfRange,  ///< |x| rounds above the largest float 3.40282347e+38 (e.g. 1e39, 1e400)
};

/// A parsed value cell: `value` is meaningful for Ok, NaN for Missing, 0 otherwise.
struct ValueCell {
  float value = 0.0f;
  CellStatus status = CellStatus::Ok;
};

/// Parses a value cell: spaces and tabs around it are ignored, then a decimal number as
/// std::from_chars reads it (no locale), with an optional leading '+'. Parsed in double, then
/// rounded once to float. Never throws.
ValueCell parse_value_cell(std::string_view text) noexcept;

/// The reason part of an error message for a cell that is not Ok, e.g. "'1e39' is outside the
/// float range (|x| <= 3.40282347e+38)". For Missing: "missing value (empty or NaN cell)".
std::string describe_cell(std::string_view text, CellStatus status);

/// Parses a timestamp cell: parse_timestamp's `YYYY-MM-DD HH:MM:SS[.000000]` (rnnad/labels.h),
/// also with `T` between date and time and a trailing `Z` (ISO 8601, UTC), spaces and tabs around
/// it ignored. Returns seconds since 1970-01-01 00:00:00. Throws FormatError without a location,
/// "missing timestamp (empty cell)" or "bad timestamp '<text>': <reason>"; the caller prefixes it.
int64_t parse_timestamp_cell(std::string_view text);

/// Whether parse_timestamp_cell accepts `text` (used to tell a header row from a data row).
bool is_timestamp_cell(std::string_view text);

/// Whether a header name marks the timestamp column when none is given: timestamp, time, date or
/// datetime, in any case.
bool is_timestamp_name(std::string_view name);

}  // namespace rnnad
