// Errors of the benchmark harness (one line each, like the library's).
#pragma once

#include <stdexcept>
#include <string>

namespace rnnad::bench {

/// A usage or setup error of rnnad_bench itself (unknown row, bad option, unreadable file).
class BenchError : public std::runtime_error {
 public:
  explicit BenchError(const std::string& message) : std::runtime_error(message) {}
};

/// The command line asks for something that does not exist (row, backend, suite): exit code 2.
class UsageError : public BenchError {
 public:
  using BenchError::BenchError;
};

/// A backend does not run this row (model kind, cell or mode it lacks): the row reports
/// "skipped: <message>" for that backend.
class NotApplicable : public std::runtime_error {
 public:
  explicit NotApplicable(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace rnnad::bench
