#include "json_strict.h"

#include <set>
#include <vector>

#include "rnnad/error.h"

namespace rnnad::detail {

namespace {

// A SAX pass that only checks object keys: one key set per open object; a repeated key is an
// error (the safetensors README forbids them, and a silent overwrite would hide a tensor). It
// replaces nlohmann's callback parser, whose end_object() scans the whole parent object after
// every closed object (nlohmann/json 3.11, json_sax_dom_callback_parser): quadratic in the number
// of tensors, minutes for a header of a few megabytes.
class DuplicateKeyCheck final : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool /*value*/) override { return true; }
  bool number_integer(number_integer_t /*value*/) override { return true; }
  bool number_unsigned(number_unsigned_t /*value*/) override { return true; }
  bool number_float(number_float_t /*value*/, const string_t& /*text*/) override { return true; }
  bool string(string_t& /*value*/) override { return true; }
  bool binary(binary_t& /*value*/) override { return true; }
  bool start_object(std::size_t /*elements*/) override {
    m_keys.emplace_back();
    return true;
  }
  bool key(string_t& name) override {
    if (m_keys.empty() || !m_keys.back().insert(name).second) {
      // The key as a JSON literal, so that a control character in it cannot break the message.
      m_error = "duplicate key " + quote(name);
      m_duplicate = true;
      return false;
    }
    return true;
  }
  bool end_object() override {
    if (!m_keys.empty()) m_keys.pop_back();
    return true;
  }
  bool start_array(std::size_t /*elements*/) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    m_error = ex.what();
    return false;
  }

  bool duplicate() const { return m_duplicate; }
  const std::string& error() const { return m_error; }

 private:
  std::vector<std::set<std::string>> m_keys;
  std::string m_error;
  bool m_duplicate = false;
};

}  // namespace

namespace {
// The parser quotes the bytes it last read, which may be control characters or invalid UTF-8:
// keep every message one printable line.
std::string printable(std::string msg) {
  for (char& ch : msg)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  return msg;
}
}  // namespace

std::string quote(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json parse_json_strict(std::string_view text, const std::string& source,
                                 const std::string& what, int max_depth) {
  // Depth is checked before parsing, with a linear scan that ignores brackets in strings, so
  // that neither the parser nor the destructor of a deep value can recurse without bound.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (ch == '"') in_string = true;
    else if (ch == '{' || ch == '[') {
      if (++depth > max_depth)
        throw FormatError(source + ": " + what + ": JSON nested deeper than " +
                          std::to_string(max_depth) + " levels");
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }

  // Syntax, UTF-8 and duplicate keys first (SAX, nothing is built), then the value itself.
  DuplicateKeyCheck check;
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text.begin(), text.end(), &check);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source + ": " + what + " is not valid JSON: " + printable(e.what()));
  }
  if (!ok) {
    if (check.duplicate()) throw FormatError(source + ": " + what + ": " + check.error());
    throw FormatError(source + ": " + what + " is not valid JSON: " + printable(check.error()));
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source + ": " + what + " is not valid JSON: " + printable(e.what()));
  }
}

}  // namespace rnnad::detail
