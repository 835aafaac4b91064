// The input options of `rnnad detect`: which CSV columns are read (CsvOptions) and the input
// policy that cleans the series (InputPolicy); docs/input.md, docs/cli.md "Input".
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "rnnad/series.h"
#include "rnnad_io/csv_reader.h"

namespace rnnad::cli {

/// Values of the input options, with their defaults (everything unclean is an error).
struct InputOptions {
  std::string fill = "error";       ///< error (missing cells are errors), interpolate, ffill
  std::string order = "error";      ///< error, sort, ignore
  std::string duplicates = "error";  ///< error, keep-first, keep-last
  bool bridge_gaps = false;
  double gap_factor = 3.0;
  std::string header = "auto";           ///< auto, present, absent
  std::string timestamp_column;          ///< name or 1-based number; "" = auto
  bool no_timestamp = false;             ///< the file has no timestamp column: rows are indices
  std::vector<std::string> columns;      ///< value columns (names or numbers), feature order
  std::string delimiter = ",";

  /// Registers --fill, --order, --duplicates, --bridge-gaps, --gap-factor, --header,
  /// --timestamp-column, --no-timestamp, --columns, --delimiter (group "Input").
  void add_to(CLI::App& app);
  /// The reader's options.
  CsvOptions csv() const;
  /// The input policy. Throws Error for a value CLI11 did not check (never in practice).
  InputPolicy policy() const;
  /// "order ignore, duplicates error, fill error, gaps split (factor 3)" for the summary.
  std::string describe() const;
};

}  // namespace rnnad::cli
