// The stdout summary of `rnnad detect` (docs/cli.md, "Summary").
#pragma once

#include <cstdint>
#include <ostream>

#include "rnnad/detector.h"
#include "rnnad/series.h"

namespace rnnad::cli {

/// Prints the events table: one line per event (start and end as timestamps, or as rows without
/// timestamps; rows; peak score; the top features with their shares). With more than
/// `max_shown` events, the `max_shown` with the highest peak scores are listed (in time order)
/// and the rest are counted.
void print_events(std::ostream& out, const Series& series, const DetectionResult& result, int64_t max_shown);

/// "22695 rows x 1 feature (value), 2013-12-02 21:15:00 to 2014-02-19 15:25:00".
std::string describe_series(const Series& series);

}  // namespace rnnad::cli
