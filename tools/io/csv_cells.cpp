// Value and timestamp cells (rnnad_io/csv_cells.h).
#include "rnnad_io/csv_cells.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>

#include "rnnad/error.h"
#include "rnnad/labels.h"

namespace rnnad {
namespace {

/// Doubles at or above this magnitude round to infinity as float: FLT_MAX + half an ulp (2^128 − 2^103).
constexpr double kFloatOverflow = 0x1.fffffffp+127;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equals_lower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (c != lower[i]) return false;
  }
  return true;
}

/// For a number from_chars found out of double range: whether its magnitude is below 1 (an
/// underflow, read as 0) rather than huge. Decimal exponent of the first nonzero digit plus the
/// written exponent.
bool underflows(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  const std::size_t e = s.find_first_of("eE");
  const std::string_view mantissa = s.substr(0, e);
  long long exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view x = s.substr(e + 1);
    if (!x.empty() && x.front() == '+') x.remove_prefix(1);
    if (std::from_chars(x.data(), x.data() + x.size(), exponent).ec != std::errc{})
      return !x.empty() && x.front() == '-';  // an exponent beyond long long decides alone
  }
  const std::size_t dot = std::min(mantissa.find('.'), mantissa.size());
  const std::size_t first = mantissa.find_first_of("123456789");
  if (first == std::string_view::npos) return true;
  const long long magnitude =
      first < dot ? static_cast<long long>(dot - first) - 1 : -static_cast<long long>(first - dot);
  return magnitude + exponent < 0;
}

}  // namespace

ValueCell parse_value_cell(std::string_view text) noexcept {
  const std::string_view s = trim(text);
  if (s.empty() || equals_lower(s, "na") || equals_lower(s, "n/a") || equals_lower(s, "null"))
    return {std::numeric_limits<float>::quiet_NaN(), CellStatus::Missing};
  std::string_view digits = s;
  if (digits.front() == '+') {
    digits.remove_prefix(1);
    if (digits.empty() || digits.front() == '+' || digits.front() == '-') return {0.0f, CellStatus::NotNumber};
  }
  double d = 0.0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
  if (end != digits.data() + digits.size() || ec == std::errc::invalid_argument) return {0.0f, CellStatus::NotNumber};
  if (ec == std::errc::result_out_of_range)
    return underflows(digits) ? ValueCell{digits.front() == '-' ? -0.0f : 0.0f, CellStatus::Ok}
                              : ValueCell{0.0f, CellStatus::OutOfRange};
  if (std::isnan(d)) return {std::numeric_limits<float>::quiet_NaN(), CellStatus::Missing};
  if (std::isinf(d)) return {0.0f, CellStatus::Infinite};
  if (std::fabs(d) >= kFloatOverflow) return {0.0f, CellStatus::OutOfRange};
  return {static_cast<float>(d), CellStatus::Ok};
}

std::string describe_cell(std::string_view text, CellStatus status) {
  const std::string quoted = "'" + std::string(text) + "'";
  switch (status) {
    case CellStatus::Ok:
      return quoted + " is a number";
    case CellStatus::Missing:
      return "missing value (empty or NaN cell)";
    case CellStatus::NotNumber:
      return quoted + " is not a number";
    case CellStatus::Infinite:
      return quoted + " is infinite";
    case CellStatus::OutOfRange:
      return quoted + " is outside the float range (|x| <= 3.40282347e+38)";
  }
  return quoted;
}

int64_t parse_timestamp_cell(std::string_view text) {
  const std::string_view s = trim(text);
  if (s.empty()) throw FormatError("missing timestamp (empty cell)");
  // ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff][Z]" becomes parse_timestamp's "YYYY-MM-DD HH:MM:SS[.fff]".
  std::array<char, 40> buffer{};
  std::string_view normalized = s;
  const bool iso_t = s.size() > 10 && s[10] == 'T';
  const bool zulu = s.size() > 19 && s.back() == 'Z';
  if ((iso_t || zulu) && s.size() <= buffer.size()) {
    const std::size_t n = s.size() - (zulu ? 1 : 0);
    std::copy_n(s.data(), n, buffer.data());
    if (iso_t) buffer[10] = ' ';
    normalized = std::string_view(buffer.data(), n);
  }
  try {
    return parse_timestamp(normalized, "");
  } catch (const FormatError& e) {
    // parse_timestamp says "<where>: bad timestamp '<normalized>': <reason>"; name the text as written.
    const std::string message = e.what(), prefix = ": bad timestamp '" + std::string(normalized) + "'";
    const std::string reason = message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : ": " + message;
    throw FormatError("bad timestamp '" + std::string(s) + "'" + reason);
  }
}

bool is_timestamp_cell(std::string_view text) {
  try {
    parse_timestamp_cell(text);
    return true;
  } catch (const FormatError&) {
    return false;
  }
}

bool is_timestamp_name(std::string_view name) {
  return equals_lower(name, "timestamp") || equals_lower(name, "time") || equals_lower(name, "date") ||
         equals_lower(name, "datetime");
}

}  // namespace rnnad
