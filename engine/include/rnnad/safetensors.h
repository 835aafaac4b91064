// Reader for the safetensors container (docs/model_format.md §1; byte layout and validation
// rules as in huggingface/safetensors `Metadata::validate`, shared/docs/algorithms.md §6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rnnad {

/// Element types rnnad reads. Every other safetensors dtype is rejected by name at parse time.
enum class DType { F16, BF16, F32, F64 };

/// "F16", "BF16", "F32" or "F64" (the safetensors spelling).
const char* dtype_name(DType dtype);

/// One tensor of a validated container: row-major, little-endian bytes at
/// [offset, offset + nbytes) of the data buffer (which starts right after the header).
struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  ///< [] is a scalar (numel 1); a 0 anywhere means empty
  int64_t numel = 0;
  std::size_t offset = 0;
  std::size_t nbytes = 0;
};

/// A safetensors file held in memory, fully validated when constructed: header length
/// bounds (8 <= size, N <= 100,000,000, 8 + N <= size), UTF-8 JSON object without duplicate
/// keys and at most 32 levels deep, `__metadata__` string-to-string, known dtypes, shapes with
/// non-negative dims and no overflow, offsets contiguous from 0 without gaps or overlaps, sizes
/// matching dtype x shape, and the last tensor ending exactly at the end of the file.
/// Nothing is allocated in proportion to a number read from the file before it is checked
/// against the file's real size. Throws FormatError (message starts with the source name),
/// IoError when the file cannot be read.
class SafetensorsFile {
 public:
  /// Reads and validates `path`. Throws IoError / FormatError.
  static SafetensorsFile read(const std::filesystem::path& path);
  /// Validates `bytes`; `source` names them in error messages. Throws FormatError.
  static SafetensorsFile parse(std::vector<unsigned char> bytes, std::string source);

  const std::string& source() const { return m_source; }
  /// The `__metadata__` object (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return m_metadata; }
  /// Tensors in file (offset) order.
  const std::vector<TensorEntry>& tensors() const { return m_tensors; }
  /// The named tensor, or nullptr.
  const TensorEntry* find(std::string_view name) const;

  /// Values of a F32/F16/BF16 tensor as float (F16/BF16 upcast exactly). Throws FormatError
  /// naming the tensor and flat index when a value is NaN or infinite, or for an F64 tensor.
  std::vector<float> to_f32(const TensorEntry& entry) const;
  /// Values of a F64 (or F32) tensor as double; same finiteness rule as to_f32, except that
  /// NaN is accepted when `allow_nan` (reference score series mark "no score" with NaN).
  std::vector<double> to_f64(const TensorEntry& entry, bool allow_nan = false) const;

 private:
  SafetensorsFile() = default;
  const unsigned char* data(const TensorEntry& entry) const;

  std::string m_source;
  std::vector<unsigned char> m_bytes;
  std::size_t m_data_start = 0;
  std::map<std::string, std::string> m_metadata;
  std::vector<TensorEntry> m_tensors;
};

/// Reads a whole file into memory. Throws IoError naming the path.
std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path);

/// Formats a shape as "[2, 3, 4]" for messages.
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace rnnad
