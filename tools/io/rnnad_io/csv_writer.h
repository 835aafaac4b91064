// Writing CSV fields (RFC 4180 quoting by libcsv's csv_write).
#pragma once

#include <string>
#include <string_view>

namespace rnnad {

/// `text` as one CSV field: unchanged when it holds no comma, quote, CR, LF and no leading or
/// trailing space or tab; otherwise quoted by libcsv (quotes doubled), e.g. a,b -> "a,b".
std::string csv_field(std::string_view text);

}  // namespace rnnad
