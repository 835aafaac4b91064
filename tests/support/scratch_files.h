// Test support: small files written by a test into this executable's scratch directory, and
// checks of error messages.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "rnnad/error.h"

namespace rnnad::test {

/// This executable's scratch directory, <temp>/rnnad_test_<pid>: created on first use, removed
/// with everything in it at exit.
std::filesystem::path scratch();

/// Writes `bytes` as they are (binary) to scratch() / name and returns the path.
std::filesystem::path write_file(const std::string& name, const std::string& bytes);

/// Runs `fn`, expects an exception of type E whose what() contains every string of `parts`;
/// returns the message (empty after a failed check).
template <class E, class Fn>
std::string require_throws(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string msg = e.what();
    INFO("message: " << msg);
    for (const std::string& p : parts) CHECK(msg.find(p) != std::string::npos);
    return msg;
  }
  FAIL("expected an exception of the expected rnnad error type");
  return {};
}

/// require_throws for rnnad::FormatError.
template <class Fn>
std::string require_format_error(Fn&& fn, std::initializer_list<std::string> parts) {
  return require_throws<FormatError>(fn, parts);
}

}  // namespace rnnad::test
