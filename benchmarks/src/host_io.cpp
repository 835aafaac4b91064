#include <utility>

#include "backend.h"

namespace rnnad::bench {

HostIO::HostIO(const Workload& w) : h(w.h0), c(w.c0), m_step(w.row.mode == Mode::Step) {
  for (const auto& spec : w.outputs) out.emplace_back(elements(spec));
}

void HostIO::next_call() {
  if (m_step && m_calls > 0) {
    std::swap(h, out[1]);
    if (!c.empty()) std::swap(c, out[2]);
  }
  ++m_calls;
}

}  // namespace rnnad::bench
