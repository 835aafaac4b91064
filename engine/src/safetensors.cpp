// safetensors container validation (docs/model_format.md §1).
#include "rnnad/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "json_strict.h"
#include "rnnad/error.h"
#include "rnnad/half_bits.h"

namespace rnnad {

using detail::quote;

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // safetensors MAX_HEADER_SIZE
constexpr std::size_t kMaxRank = 8;

struct DTypeInfo {
  const char* name;
  int bits;
  bool supported;
  DType dtype;
};

// Every dtype string safetensors defines: known-but-unsupported ones get a specific message.
constexpr DTypeInfo kDTypes[] = {
    {"BOOL", 8, false, DType::F32},    {"F4", 4, false, DType::F32},
    {"F6_E2M3", 6, false, DType::F32}, {"F6_E3M2", 6, false, DType::F32},
    {"U8", 8, false, DType::F32},      {"I8", 8, false, DType::F32},
    {"F8_E5M2", 8, false, DType::F32}, {"F8_E4M3", 8, false, DType::F32},
    {"F8_E8M0", 8, false, DType::F32}, {"F8_E4M3FNUZ", 8, false, DType::F32},
    {"F8_E5M2FNUZ", 8, false, DType::F32}, {"I16", 16, false, DType::F32},
    {"U16", 16, false, DType::F32},    {"F16", 16, true, DType::F16},
    {"BF16", 16, true, DType::BF16},   {"I32", 32, false, DType::F32},
    {"U32", 32, false, DType::F32},    {"F32", 32, true, DType::F32},
    {"C64", 64, false, DType::F32},    {"F64", 64, true, DType::F64},
    {"I64", 64, false, DType::F32},    {"U64", 64, false, DType::F32},
};

int dtype_bytes(DType d) {
  switch (d) {
    case DType::F16:
    case DType::BF16: return 2;
    case DType::F32: return 4;
    case DType::F64: return 8;
  }
  return 0;
}

std::uint64_t read_u64_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F32: return "F32";
    case DType::F64: return "F64";
  }
  return "?";
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << ']';
  return s.str();
}

std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path) {
  // Only regular files: a directory would report a bogus size, a FIFO or device would block or
  // stream without end.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw IoError(path.string() + ": no such file");
  if (!std::filesystem::is_regular_file(status))
    throw IoError(path.string() + ": not a regular file (a directory, device or pipe)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open for reading");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw IoError(path.string() + ": cannot determine file size");
  in.seekg(0, std::ios::beg);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw IoError(path.string() + ": read failed");
  return bytes;
}

SafetensorsFile SafetensorsFile::read(const std::filesystem::path& path) {
  return parse(read_file_bytes(path), path.string());
}

SafetensorsFile SafetensorsFile::parse(std::vector<unsigned char> bytes, std::string source) {
  SafetensorsFile f;
  f.m_source = std::move(source);
  f.m_bytes = std::move(bytes);
  const std::string& src = f.m_source;
  const std::uint64_t size = f.m_bytes.size();
  auto fail = [&](const std::string& msg) -> FormatError {
    return FormatError(src + ": " + msg +
                       " (not a valid safetensors file; re-export it with tools/python/rnnad_export.py)");
  };

  if (size < 8) throw fail("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  const std::uint64_t n = read_u64_le(f.m_bytes.data());
  if (n > kMaxHeaderBytes)
    throw fail("header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxHeaderBytes));
  if (n > size - 8)
    throw fail("header length " + std::to_string(n) + " runs past the end of the " + std::to_string(size) +
               "-byte file (file is incomplete)");
  f.m_data_start = static_cast<std::size_t>(8 + n);
  const std::string_view header(reinterpret_cast<const char*>(f.m_bytes.data() + 8), static_cast<std::size_t>(n));

  const nlohmann::json j = detail::parse_json_strict(header, src, "header");
  if (!j.is_object()) throw fail("header is not a JSON object");

  const std::uint64_t buffer_size = size - 8 - n;
  for (const auto& [name, value] : j.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) throw fail("__metadata__ is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) throw fail("__metadata__ value " + quote(k) + " is not a string");
        f.m_metadata.emplace(k, v.get<std::string>());
      }
      continue;
    }
    const std::string where = "tensor " + quote(name);
    if (!value.is_object()) throw fail(where + ": entry is not an object");
    for (const auto& [k, v] : value.items()) {
      (void)v;
      if (k != "dtype" && k != "shape" && k != "data_offsets") throw fail(where + ": unexpected field " + quote(k));
    }
    if (!value.contains("dtype") || !value["dtype"].is_string()) throw fail(where + ": missing or non-string dtype");
    if (!value.contains("shape") || !value["shape"].is_array()) throw fail(where + ": missing or non-array shape");
    if (!value.contains("data_offsets") || !value["data_offsets"].is_array() || value["data_offsets"].size() != 2)
      throw fail(where + ": data_offsets must be an array [begin, end]");

    TensorEntry e;
    e.name = name;
    const auto dt = value["dtype"].get<std::string>();
    const DTypeInfo* info = nullptr;
    for (const auto& d : kDTypes)
      if (dt == d.name) info = &d;
    if (!info) throw fail(where + ": unknown dtype " + quote(dt));
    if (!info->supported)
      throw FormatError(src + ": " + where + ": unsupported dtype " + dt + " (rnnad reads F32, F16, BF16 and F64)");
    e.dtype = info->dtype;

    const auto& shape = value["shape"];
    if (shape.size() > kMaxRank) throw fail(where + ": rank " + std::to_string(shape.size()) + " exceeds " + std::to_string(kMaxRank));
    std::uint64_t numel = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned()) throw fail(where + ": shape entries must be non-negative integers");
      const std::uint64_t dim = d.get<std::uint64_t>();
      // Any tensor that fits the buffer has fewer than buffer_size elements unless it is empty,
      // so an overflow check against 2^62 is enough to keep every later product exact. A single
      // dimension above 2^62 is rejected too: next to a 0 it would not overflow the product, but
      // it does not fit the int64 shape (2^64 - 1 would read as -1).
      if (dim > (std::uint64_t{1} << 62))
        throw fail(where + ": shape dimension " + std::to_string(dim) + " exceeds 2^62");
      if (dim != 0 && numel > (std::uint64_t{1} << 62) / dim) throw fail(where + ": shape element count overflows");
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = value["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw fail(where + ": data_offsets must be non-negative integers");
    const std::uint64_t begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
    if (end < begin) throw fail(where + ": data_offsets end " + std::to_string(end) + " < begin " + std::to_string(begin));
    if (end > buffer_size)
      throw fail(where + ": data_offsets end " + std::to_string(end) + " lies past the " + std::to_string(buffer_size) +
                 "-byte data buffer (file is incomplete)");
    const int bytes_per = dtype_bytes(e.dtype);
    if (numel > (std::uint64_t{1} << 62) / static_cast<std::uint64_t>(bytes_per) ||
        numel * static_cast<std::uint64_t>(bytes_per) != end - begin)
      throw fail(where + ": " + std::to_string(end - begin) + " bytes do not match dtype " + dt + " x shape " +
                 shape_string(e.shape));
    e.numel = static_cast<int64_t>(numel);
    e.offset = static_cast<std::size_t>(begin);
    e.nbytes = static_cast<std::size_t>(end - begin);
    f.m_tensors.push_back(std::move(e));
  }

  // Walk in offset order: each tensor must start where the previous one ended, and the last
  // must end at the end of the file (rejects gaps, overlaps and trailing bytes).
  std::sort(f.m_tensors.begin(), f.m_tensors.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.nbytes < b.nbytes;
  });
  std::uint64_t expected = 0;
  for (const auto& e : f.m_tensors) {
    if (e.offset != expected) {
      throw fail("tensor " + quote(e.name) + " starts at byte " + std::to_string(e.offset) + " of the data buffer, expected " +
                 std::to_string(expected) + (e.offset < expected ? " (overlaps the previous tensor)" : " (gap)"));
    }
    expected = e.offset + e.nbytes;
  }
  if (expected != buffer_size)
    throw fail("tensors cover " + std::to_string(expected) + " bytes but the data buffer holds " +
               std::to_string(buffer_size) + (expected < buffer_size ? " (trailing bytes)" : ""));
  return f;
}

const TensorEntry* SafetensorsFile::find(std::string_view name) const {
  for (const auto& e : m_tensors)
    if (e.name == name) return &e;
  return nullptr;
}

const unsigned char* SafetensorsFile::data(const TensorEntry& entry) const {
  return m_bytes.data() + m_data_start + entry.offset;
}

std::vector<float> SafetensorsFile::to_f32(const TensorEntry& e) const {
  if (e.dtype == DType::F64)
    throw FormatError(m_source + ": tensor " + quote(e.name) + " has dtype F64 where F32, F16 or BF16 is required");
  std::vector<float> out(static_cast<std::size_t>(e.numel));
  const unsigned char* p = data(e);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (e.dtype == DType::F32) {
      std::uint32_t bits = 0;
      for (int b = 3; b >= 0; --b) bits = (bits << 8) | p[4 * i + b];
      out[i] = std::bit_cast<float>(bits);
    } else {
      const auto h = static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
      out[i] = e.dtype == DType::F16 ? f16_bits_to_float(h) : bf16_bits_to_float(h);
    }
    if (!std::isfinite(out[i]))
      throw FormatError(m_source + ": tensor " + quote(e.name) + " has a non-finite value at flat index " +
                        std::to_string(i));
  }
  return out;
}

std::vector<double> SafetensorsFile::to_f64(const TensorEntry& e, bool allow_nan) const {
  if (e.dtype != DType::F64) {
    const auto f = to_f32(e);
    return {f.begin(), f.end()};
  }
  std::vector<double> out(static_cast<std::size_t>(e.numel));
  const unsigned char* p = data(e);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint64_t bits = read_u64_le(p + 8 * i);
    out[i] = std::bit_cast<double>(bits);
    if (!std::isfinite(out[i]) && !(allow_nan && std::isnan(out[i])))
      throw FormatError(m_source + ": tensor " + quote(e.name) + " has a non-finite value at flat index " +
                        std::to_string(i));
  }
  return out;
}

}  // namespace rnnad
