// Series accessors, the input-policy names and durations for messages (rnnad/series.h).
#include "rnnad/series.h"

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "rnnad/error.h"

namespace rnnad {

int64_t Series::rows() const {
  const int64_t f = features();
  return f == 0 ? 0 : static_cast<int64_t>(values.size()) / f;
}

std::string Series::where(int64_t row) const {
  if (lines.empty()) return source + ": row " + std::to_string(row);
  return source + ":" + std::to_string(lines[static_cast<std::size_t>(row)]);
}

std::string Series::where(int64_t row, int64_t feature) const {
  // Appended piece by piece: GCC 12 reports a false -Wrestrict on ":" + std::string (bug 105651).
  std::string s = where(row);
  if (!column_numbers.empty() && !lines.empty())
    s.append(":").append(std::to_string(column_numbers[static_cast<std::size_t>(feature)]));
  return s.append(": column '").append(columns[static_cast<std::size_t>(feature)]).append("'");
}

void Series::check_shape() const {
  const int64_t f = features();
  if (f == 0) throw ShapeError(source + ": the series has no value column");
  const auto n = static_cast<int64_t>(values.size());
  const auto bad = [&](const std::string& what) {
    throw ShapeError(source + ": " + what + " (values hold " + std::to_string(n) + " floats for " + std::to_string(f) +
                     " columns)");
  };
  if (n % f != 0) bad("values are not [rows, " + std::to_string(f) + "]");
  const int64_t r = n / f;
  if (!timestamps.empty() && static_cast<int64_t>(timestamps.size()) != r)
    bad(std::to_string(timestamps.size()) + " timestamps for " + std::to_string(r) + " rows");
  if (!lines.empty() && static_cast<int64_t>(lines.size()) != r)
    bad(std::to_string(lines.size()) + " line numbers for " + std::to_string(r) + " rows");
  if (!column_numbers.empty() && static_cast<int64_t>(column_numbers.size()) != f)
    bad(std::to_string(column_numbers.size()) + " column numbers for " + std::to_string(f) + " columns");
}

namespace {

template <class Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, const char*>, N>;

constexpr NameTable<MissingPolicy, 3> kMissingNames{{{MissingPolicy::Error, "error"},
                                                     {MissingPolicy::Interpolate, "interpolate"},
                                                     {MissingPolicy::ForwardFill, "ffill"}}};
constexpr NameTable<OrderPolicy, 3> kOrderNames{
    {{OrderPolicy::Error, "error"}, {OrderPolicy::Sort, "sort"}, {OrderPolicy::Ignore, "ignore"}}};
constexpr NameTable<DuplicatePolicy, 3> kDuplicateNames{{{DuplicatePolicy::Error, "error"},
                                                         {DuplicatePolicy::KeepFirst, "keep-first"},
                                                         {DuplicatePolicy::KeepLast, "keep-last"}}};

template <class Enum, std::size_t N>
const char* name_of(const NameTable<Enum, N>& table, Enum value) {
  for (const auto& [e, name] : table)
    if (e == value) return name;
  throw Error("invalid policy value " + std::to_string(static_cast<int>(value)));
}

template <class Enum, std::size_t N>
Enum parse_name(const NameTable<Enum, N>& table, std::string_view text, const char* what) {
  std::string expected;
  for (const auto& [e, name] : table) {
    if (text == name) return e;
    expected += (expected.empty() ? "" : ", ") + std::string(name);
  }
  throw Error("unknown " + std::string(what) + " '" + std::string(text) + "' (expected " + expected + ")");
}

std::string two_digits(int64_t v) { return std::string(v < 10 ? "0" : "").append(std::to_string(v)); }

}  // namespace

const char* policy_name(MissingPolicy policy) { return name_of(kMissingNames, policy); }
const char* policy_name(OrderPolicy policy) { return name_of(kOrderNames, policy); }
const char* policy_name(DuplicatePolicy policy) { return name_of(kDuplicateNames, policy); }

MissingPolicy parse_missing_policy(std::string_view text) {
  return parse_name(kMissingNames, text, "missing-value policy");
}
OrderPolicy parse_order_policy(std::string_view text) {
  return parse_name(kOrderNames, text, "timestamp-order policy");
}
DuplicatePolicy parse_duplicate_policy(std::string_view text) {
  return parse_name(kDuplicateNames, text, "duplicate-timestamp policy");
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s.append(s.empty() ? "" : ", ").append(n);
  return s;
}

std::string format_duration(int64_t seconds) {
  if (seconds < 0) throw Error("format_duration: negative duration " + std::to_string(seconds));
  const int64_t days = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
  if (days > 0) {
    std::string out = std::to_string(days) + (days == 1 ? " day " : " days ") + two_digits(h) + ":" + two_digits(m);
    if (s != 0) out.append(":").append(two_digits(s));
    return out;
  }
  std::string out;
  if (h > 0) out += std::to_string(h) + "h";
  if (m > 0) out += std::to_string(m) + "m";
  if (s > 0 || out.empty()) out += std::to_string(s) + "s";
  return out;
}

}  // namespace rnnad
