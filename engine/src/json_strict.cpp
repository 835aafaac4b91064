#include "json_strict.h"

#include <set>
#include <vector>

#include "rnnad/error.h"

namespace rnnad::detail {

namespace {
// Thrown from inside the parser callback; converted to FormatError below.
struct StrictJsonViolation {
  std::string message;
};
}  // namespace

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

  // One key set per open object; a repeated key is an error (the safetensors README forbids
  // them, and a silent overwrite would hide a tensor).
  std::vector<std::set<std::string>> keys;
  auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      keys.emplace_back();
    } else if (event == E::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == E::key) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (keys.empty() || !keys.back().insert(key).second)
        throw StrictJsonViolation{"duplicate key \"" + key + "\""};
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const StrictJsonViolation& v) {
    throw FormatError(source + ": " + what + ": " + v.message);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source + ": " + what + " is not valid JSON: " + e.what());
  }
}

}  // namespace rnnad::detail
