// Test support: counts heap allocations made inside a region, to prove that forward passes and
// streaming steps allocate nothing. Linking alloc_counter.cpp into a test executable interposes
// malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc and every operator new
// (under ASan/TSan, whose runtimes own malloc, it installs the sanitizer's malloc hook instead).
#pragma once

#include <cstdint>

namespace rnnad::test {

/// Counts allocation calls from construction until destruction (or stop()). Regions do not nest;
/// counting covers all threads.
class AllocationRegion {
 public:
  AllocationRegion();
  ~AllocationRegion();
  AllocationRegion(const AllocationRegion&) = delete;
  AllocationRegion& operator=(const AllocationRegion&) = delete;
  /// Ends counting early; count() keeps the final value.
  void stop();
  /// Allocation calls seen so far in this region.
  std::uint64_t count() const;
};

/// True when the interposition is active in this executable (a sanity test asserts that a
/// deliberate allocation is counted, so the counter itself can fail).
bool allocation_counting_works();

}  // namespace rnnad::test
