// Strict JSON parsing shared by the container header and the rnnad config (internal header).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace rnnad::detail {

/// `s` as a JSON string literal ("name" with control characters escaped and invalid UTF-8
/// replaced), so that a name read from a file keeps an error message one unambiguous line.
std::string quote(const std::string& s);

/// Parses `text` as JSON, rejecting (FormatError "<source>: <what>: ...") invalid syntax,
/// invalid UTF-8, duplicate object keys and nesting deeper than `max_depth`.
nlohmann::json parse_json_strict(std::string_view text, const std::string& source,
                                 const std::string& what, int max_depth = 32);

}  // namespace rnnad::detail
