// Shared by the C API's sources (c_api.cpp, c_api_pool.cpp): the handle structs, the error guard
// that turns every C++ exception into an rnnad_status plus the thread's last-error message, and
// the conversions of options between the C structs and the C++ ones.
#pragma once

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "rnnad/device.h"
#include "rnnad/model.h"
#include "rnnad/rnnad.h"
#include "rnnad/threshold_apply.h"

/// The C handle of a loaded model: the shared, immutable Model and the strings rnnad_model_info points to.
struct rnnad_model {
  std::shared_ptr<const rnnad::Model> model;
  std::string summary;  // config_summary(), for rnnad_model_info.summary
};

namespace rnnad::capi {

/// A C-level argument error (NULL handle or pointer, negative count, unknown enum value):
/// RNNAD_ERROR_INVALID_ARGUMENT.
class ArgumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An unknown stream id: RNNAD_ERROR_NOT_FOUND.
class NotFoundError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws ArgumentError(message) unless `ok`.
inline void require(bool ok, const char* message) {
  if (!ok) throw ArgumentError(message);
}

/// Maps the exception being handled to its status (ArgumentError, NotFoundError, the rnnad::Error
/// hierarchy, std::bad_alloc, anything else = RNNAD_ERROR_INTERNAL) and records
/// "<function>: <what()>" as the thread's last error. Call only from a catch handler.
rnnad_status fail_current(const char* function) noexcept;

/// Runs `body` and returns RNNAD_OK, or the status of what it threw (fail_current). No exception
/// leaves it.
template <class Body>
rnnad_status guarded(const char* function, Body&& body) noexcept {
  try {
    body();
    return RNNAD_OK;
  } catch (...) {
    return fail_current(function);
  }
}

/// The int a C caller stored in an enum-typed parameter or member. C allows any int there; C++
/// must not load an enum outside its enumerators' range (UBSan: -fsanitize=enum), so values from
/// the caller are read as int and checked before they are converted.
template <class Enum>
int raw_enum(const Enum& e) {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are int-sized");
  int v = 0;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

/// The C++ method of a raw rnnad_threshold_method; ArgumentError for an unknown value (MODEL_DEFAULT included).
ThresholdMethod to_method(int method);
/// The C++ device of a raw rnnad_device; ArgumentError for an unknown value.
Device to_device(int device);
/// The C++ settings for `options`: rnnad's defaults of its method, overridden by every member.
/// ArgumentError for an unknown method, an infinite value, a DSPOT depth < 1.
ThresholdSettings to_settings(const rnnad_threshold_options& options);
/// Fills *options for the raw rnnad_threshold_method `method` (MODEL_DEFAULT: the model file's),
/// from rnnad's defaults and the model file's threshold object when `model` is not NULL.
void init_threshold(const rnnad_model* model, int method, rnnad_threshold_options* options);

}  // namespace rnnad::capi
