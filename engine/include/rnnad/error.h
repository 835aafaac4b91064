// rnnad error hierarchy. Every error the library throws derives from rnnad::Error
// (a std::runtime_error); only the CLI turns them into exit codes (docs/architecture.md).
#pragma once

#include <stdexcept>
#include <string>

namespace rnnad {

/// Base of every error thrown by rnnad. `what()` is one line that names the file, tensor,
/// field or argument at fault.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A model, reference or data file is malformed: container bytes, JSON, dtype, shape against
/// the config, offsets, non-finite weights. The message starts with the file name.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A caller passed tensors whose shapes do not fit the model or the engine's limits.
/// The message gives the expected and the actual shape.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A file or request asks for something this build or version does not support
/// (newer format version, unknown model kind, CUDA in a CPU-only build).
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

/// A CUDA runtime or cuBLAS call failed; the message names the call, file, line and
/// CUDA's own message.
class CudaError : public Error {
 public:
  using Error::Error;
};

/// An operating-system level I/O failure (file missing, unreadable, cannot be written).
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace rnnad
