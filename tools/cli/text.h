// Number formatting for the CLI's messages and summaries.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace rnnad::cli {

/// `v` with `digits` significant digits (printf %g), e.g. num(0.4219069) == "0.421907".
inline std::string num(double v, int digits = 6) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

/// `v` with `decimals` digits after the point (printf %f), e.g. fixed(0.81234, 3) == "0.812".
inline std::string fixed(double v, int decimals = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// "1 row" / "12 rows" for (n, "row").
inline std::string count(int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace rnnad::cli
