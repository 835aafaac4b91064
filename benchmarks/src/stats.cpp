#include "stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rnnad::bench {

Stats summarize(std::vector<double> ms) {
  std::erase_if(ms, [](double v) { return std::isnan(v); });
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (ms.empty()) return {0, nan, nan, nan, nan, nan, nan};
  std::sort(ms.begin(), ms.end());
  const auto n = ms.size();
  auto at = [&](double q) {  // linear interpolation between closest ranks
    const double pos = q * static_cast<double>(n - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, n - 1);
    return ms[lo] + (pos - static_cast<double>(lo)) * (ms[hi] - ms[lo]);
  };
  const auto rank99 = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(n)));
  return {static_cast<int>(n), at(0.5), at(0.25), at(0.75), ms.front(), ms.back(), ms[std::max<std::size_t>(rank99, 1) - 1]};
}

}  // namespace rnnad::bench
