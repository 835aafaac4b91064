// CSV fields for output files (rnnad_io/csv_writer.h).
#include "rnnad_io/csv_writer.h"

#include <csv.h>

namespace rnnad {

std::string csv_field(std::string_view text) {
  const bool plain = text.find_first_of(",\"\r\n") == std::string_view::npos &&
                     (text.empty() || (text.front() != ' ' && text.front() != '\t' && text.back() != ' ' && text.back() != '\t'));
  if (plain) return std::string(text);
  std::string out(2 * text.size() + 2, '\0');  // the most csv_write needs: every byte a quote, plus two
  out.resize(csv_write(out.data(), out.size(), text.data(), text.size()));
  return out;
}

}  // namespace rnnad
