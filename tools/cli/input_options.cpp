// Input options of `rnnad detect` (input_options.h).
#include "input_options.h"

#include "option_checks.h"
#include "text.h"

namespace rnnad::cli {

void InputOptions::add_to(CLI::App& app) {
  const std::string g = "Input";
  app.add_option("--fill", fill, "Missing cells: error (stop at the first), interpolate (linear in row position) or ffill")
      ->check(one_of({"error", "interpolate", "ffill"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--order", order, "Timestamps that go back: error, sort (stable) or ignore (file order; timestamps are labels)")
      ->check(one_of({"error", "sort", "ignore"}))
      ->capture_default_str()
      ->group(g);
  app.add_option("--duplicates", duplicates, "Repeated timestamps: error, keep-first or keep-last")
      ->check(one_of({"error", "keep-first", "keep-last"}))
      ->capture_default_str()
      ->group(g);
  app.add_flag("--bridge-gaps", bridge_gaps, "Let windows cross time gaps (default: gaps split the series into segments)")
      ->group(g);
  app.add_option("--gap-factor", gap_factor, "A step above this many median steps is a gap (> 1)")
      ->check(finite_number())
      ->check([](const std::string& s) { return std::strtod(s.c_str(), nullptr) > 1 ? "" : "'" + s + "' is not above 1"; })
      ->capture_default_str()
      ->group(g);
  app.add_option("--header", header, "First line: auto (a header unless every field is a number or timestamp), present, absent")
      ->check(one_of({"auto", "present", "absent"}))
      ->capture_default_str()
      ->group(g);
  auto* ts = app.add_option("--timestamp-column", timestamp_column,
                            "Timestamp column, name or 1-based number (default: the column named timestamp, time, date "
                            "or datetime)")
                 ->group(g);
  app.add_flag("--no-timestamp", no_timestamp, "The file has no timestamp column: rows are indices")->excludes(ts)->group(g);
  app.add_option("--columns", columns, "Value columns in the model's feature order, names or 1-based numbers, comma "
                                       "separated (default: every column but the timestamp)")
      ->delimiter(',')
      ->group(g);
  app.add_option("--delimiter", delimiter, "Field delimiter (one character)")
      ->check([](const std::string& s) { return s.size() == 1 ? std::string() : "'" + s + "' is not one character"; })
      ->capture_default_str()
      ->group(g);
}

CsvOptions InputOptions::csv() const {
  CsvOptions o;
  o.header = header == "present" ? CsvHeader::Present : header == "absent" ? CsvHeader::Absent : CsvHeader::Auto;
  if (no_timestamp) o.timestamp = CsvTimestamp::None;
  else if (!timestamp_column.empty()) o.timestamp = CsvTimestamp::Column, o.timestamp_column = timestamp_column;
  o.value_columns = columns;
  o.delimiter = delimiter.empty() ? ',' : delimiter.front();
  return o;
}

InputPolicy InputOptions::policy() const {
  InputPolicy p;
  p.missing = parse_missing_policy(fill);
  p.order = parse_order_policy(order);
  p.duplicates = parse_duplicate_policy(duplicates);
  p.bridge_gaps = bridge_gaps;
  p.gap_factor = gap_factor;
  return p;
}

std::string InputOptions::describe() const {
  return "order " + order + ", duplicates " + duplicates + ", fill " + fill + ", gaps " +
         (bridge_gaps ? "bridged" : "split") + " (factor " + num(gap_factor) + ")";
}

}  // namespace rnnad::cli
