// Warp collectives in the harness: shuffles, votes, __syncwarp and warp reductions as rendezvous
// of the lanes named in the mask (docs/kernels.md §3-4).
#include <string>

#include "state.h"

namespace rnnad::sim {
namespace internal {
namespace {

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::ShflIdx:
      return "__shfl_sync";
    case WarpOp::ShflUp:
      return "__shfl_up_sync";
    case WarpOp::ShflDown:
      return "__shfl_down_sync";
    case WarpOp::ShflXor:
      return "__shfl_xor_sync";
    case WarpOp::Ballot:
      return "__ballot_sync";
    case WarpOp::All:
      return "__all_sync";
    case WarpOp::Any:
      return "__any_sync";
    case WarpOp::SyncWarp:
      return "__syncwarp";
    case WarpOp::ReduceAdd:
      return "__reduce_add_sync";
    case WarpOp::ReduceMin:
      return "__reduce_min_sync";
    case WarpOp::ReduceMax:
      return "__reduce_max_sync";
    case WarpOp::ReduceAnd:
      return "__reduce_and_sync";
    case WarpOp::ReduceOr:
      return "__reduce_or_sync";
    case WarpOp::ReduceXor:
      return "__reduce_xor_sync";
  }
  return "?";
}

bool is_shuffle(WarpOp op) {
  return op == WarpOp::ShflIdx || op == WarpOp::ShflUp || op == WarpOp::ShflDown || op == WarpOp::ShflXor;
}

// Computes every lane's result of a complete collective.
void complete_collective(Launch& L, Block& b, Warp& w, const Collective& c) {
  Group& g = *L.group;
  std::uint64_t reduced = 0;
  bool first = true;
  for (unsigned l = 0; l < 32; ++l) {
    if (!(c.mask & (1u << l))) continue;
    const std::uint64_t v = c.value[l];
    const std::uint32_t u = static_cast<std::uint32_t>(v);
    const std::int32_t s = static_cast<std::int32_t>(u);
    switch (c.op) {
      case WarpOp::Ballot:
        reduced |= (v != 0 ? 1ull : 0ull) << l;
        break;
      case WarpOp::All:
        reduced = first ? (v != 0) : (reduced && v != 0);
        break;
      case WarpOp::Any:
        reduced = first ? (v != 0) : (reduced || v != 0);
        break;
      case WarpOp::ReduceAdd:
        reduced = static_cast<std::uint32_t>(reduced + u);
        break;
      case WarpOp::ReduceMin:
        if (c.is_signed)
          reduced = first || s < static_cast<std::int32_t>(static_cast<std::uint32_t>(reduced)) ? u : reduced;
        else
          reduced = first || u < reduced ? u : reduced;
        break;
      case WarpOp::ReduceMax:
        if (c.is_signed)
          reduced = first || s > static_cast<std::int32_t>(static_cast<std::uint32_t>(reduced)) ? u : reduced;
        else
          reduced = first || u > reduced ? u : reduced;
        break;
      case WarpOp::ReduceAnd:
        reduced = first ? u : (reduced & u);
        break;
      case WarpOp::ReduceOr:
        reduced |= u;
        break;
      case WarpOp::ReduceXor:
        reduced ^= u;
        break;
      default:
        break;
    }
    first = false;
  }
  for (unsigned l = 0; l < 32; ++l) {
    if (!(c.mask & (1u << l))) continue;
    Thread& t = g.threads[static_cast<std::size_t>(w.first_thread) + l];
    if (is_shuffle(c.op)) {
      const int width = c.width;
      const int lane = static_cast<int>(l), base = lane / width * width, arg = c.arg[l];
      int src = lane;
      switch (c.op) {
        case WarpOp::ShflIdx:
          src = base + (arg & (width - 1));
          break;
        case WarpOp::ShflUp:
          src = lane - base >= arg ? lane - arg : lane;
          break;
        case WarpOp::ShflDown:
          src = lane - base + arg < width ? lane + arg : lane;
          break;
        case WarpOp::ShflXor:
          src = (arg >= 0 && arg < 32 && (lane ^ arg) < base + width) ? lane ^ arg : lane;
          break;
        default:
          break;
      }
      if (!(c.mask & (1u << src)))
        fail(L, FaultKind::WarpDivergence,
             describe(L, t) + ": " + op_name(c.op) + " at " + where(c.loc) + " reads lane " + std::to_string(src) +
                 ", which is not in the mask " + hex(c.mask) + " (its value is undefined on the GPU)");
      t.collective_result = c.value[static_cast<std::size_t>(src)];
    } else {
      t.collective_result = reduced;
    }
  }
  (void)b;
}

}  // namespace
}  // namespace internal

using namespace internal;

namespace detail {

std::uint64_t warp_collective(WarpOp op, unsigned mask, std::uint64_t value, int arg, int width, bool is_signed,
                              const std::source_location& loc) {
  Launch& L = current_launch();
  Thread& t = *g_thread;
  Group& g = *L.group;
  Block& b = g.blocks[static_cast<std::size_t>(t.block)];
  Warp& w = b.warps[static_cast<std::size_t>(t.warp)];
  const unsigned bit = 1u << t.lane;
  auto call = [&] {
    return std::string(op_name(op)) + "(mask " + hex(mask) + ") at " + where(loc);
  };  // fault text only
  if (!(mask & bit))
    fault(FaultKind::WarpDivergence, call() + ": the mask does not contain the calling lane " + std::to_string(t.lane));
  if (mask & ~w.lanes_mask)
    fault(FaultKind::WarpDivergence, call() + ": the mask names lanes this warp does not have (it has " +
                                         hex(w.lanes_mask) + "; blockDim is not a multiple of 32)");
  if (is_shuffle(op) && (width < 1 || width > 32 || (width & (width - 1)) != 0))
    fault(FaultKind::Unsupported, call() + ": width " + std::to_string(width) + " is not a power of two in [1, 32]");
  for (unsigned l = 0; l < 32; ++l)
    if ((mask & (1u << l)) && g.threads[static_cast<std::size_t>(w.first_thread) + l].state == State::Done)
      fault(FaultKind::WarpDivergence, call() + ": lane " + std::to_string(l) + " named in the mask has exited");
  Collective* c = nullptr;
  for (Collective& p : w.pending)
    if (p.mask & bit) c = &p;
  if (c) {
    if (c->op != op || c->mask != mask || c->width != width || !same_loc(c->loc, loc))
      fault(FaultKind::WarpDivergence, call() + " while lanes " + hex(c->arrived) + " wait in " + op_name(c->op) +
                                           "(mask " + hex(c->mask) + ", width " + std::to_string(c->width) + ") at " +
                                           where(c->loc) + " (every lane named in a mask must make the same call)");
  } else {
    for (const Collective& p : w.pending)
      if (p.mask & mask)
        fault(FaultKind::WarpDivergence, call() + " overlaps lanes " + hex(p.mask & mask) + " waiting in " +
                                             op_name(p.op) + " at " + where(p.loc));
    w.pending.push_back(Collective{});
    c = &w.pending.back();
    c->op = op;
    c->mask = mask;
    c->width = width;
    c->is_signed = is_signed;
    c->loc = loc;
  }
  c->value[t.lane] = value;
  c->arg[t.lane] = arg;
  c->arrived |= bit;
  passed_sync(t, op_name(op), loc);
  if (c->arrived == c->mask) {
    const Collective done = *c;
    w.pending.erase(w.pending.begin() + (c - w.pending.data()));
    complete_collective(L, b, w, done);
    if (op == WarpOp::SyncWarp && mask == w.lanes_mask) ++w.epoch;  // orders the warp's shared accesses
    ++L.stats.warp_collectives;
    for (unsigned l = 0; l < 32; ++l)
      if (mask & (1u << l)) make_ready(L, g.threads[static_cast<std::size_t>(w.first_thread) + l]);
  } else {
    t.state = State::Waiting;
    t.wait = WaitKind::Warp;
    t.wait_what = op_name(op);
    t.wait_loc = loc;
  }
  suspend(L, t);
  return t.collective_result;
}

unsigned warp_lanes_mask() {
  Launch& L = current_launch();
  return L.group->blocks[static_cast<std::size_t>(g_thread->block)]
      .warps[static_cast<std::size_t>(g_thread->warp)]
      .lanes_mask;
}

}  // namespace detail
}  // namespace rnnad::sim
