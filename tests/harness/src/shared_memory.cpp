// Shared memory in the harness: one exact-size allocation per block and declaration, bounds
// checks, and the barrier-epoch race detector (see runtime.cpp's header comment and
// docs/kernels.md §4).
#include <algorithm>
#include <cstring>
#include <memory>

#include "state.h"

namespace rnnad::sim {
namespace internal {

SharedAlloc* find_or_create(Launch& L, Block& b, int block_index, const SharedSite& site, std::size_t count,
                            std::size_t elem, bool dynamic) {
  for (const auto& a : b.shared)
    if (a->site == &site) {
      if (a->count != count || a->elem_size != elem)
        fail(L, FaultKind::BadLaunch,
             std::string("shared array ") + site.name + " (" + where(site) + ") requested with " +
                 std::to_string(count) + " elements here but " + std::to_string(a->count) +
                 " by another thread of the block");
      return a.get();
    }
  if (count == 0)
    fail(L, FaultKind::BadLaunch, std::string("shared array ") + site.name + " (" + where(site) + ") has 0 elements");
  const std::size_t bytes = count * elem;
  if (dynamic) {
    for (const auto& a : b.shared)
      if (a->dynamic)
        fail(L, FaultKind::BadLaunch,
             std::string("second dynamic shared array ") + site.name + " (" + where(site) +
                 "): on the GPU every "
                 "RNNAD_DYNAMIC_SHARED_ARRAY of a kernel starts at the same address; declare one and partition it");
    if (bytes > L.opt.dynamic_shared_bytes)
      fail(L, FaultKind::BadLaunch,
           std::string("dynamic shared array ") + site.name + " (" + where(site) + ") needs " + std::to_string(bytes) +
               " bytes but the launch gives " + std::to_string(L.opt.dynamic_shared_bytes));
    b.dynamic_bytes = bytes;
  } else {
    b.static_bytes += bytes;
    if (b.static_bytes > kStaticSharedLimit)
      fail(L, FaultKind::BadLaunch,
           std::string("static shared memory of the block reaches ") + std::to_string(b.static_bytes) + " bytes with " +
               site.name + " (" + where(site) + "); CUDA allows 48 KiB of static shared memory");
  }
  if (b.static_bytes + std::max(b.dynamic_bytes, L.opt.dynamic_shared_bytes) > kSharedLimit)
    fail(L, FaultKind::BadLaunch, "shared memory of the block exceeds 227 KiB");
  auto a = std::make_unique<SharedAlloc>();
  a->site = &site;
  a->count = count;
  a->elem_size = elem;
  a->dynamic = dynamic;
  a->owner_block = block_index;
  a->data.reset(new unsigned char[bytes]);
  std::memset(a->data.get(), 0xff, bytes);  // uninitialized shared memory reads as NaN / -1
  if (L.opt.detect_races) a->shadow.resize(count);
  L.stats.shared_bytes_per_block =
      std::max(L.stats.shared_bytes_per_block, b.static_bytes + std::max(b.dynamic_bytes, L.opt.dynamic_shared_bytes));
  b.shared.push_back(std::move(a));
  return b.shared.back().get();
}

std::string element(const SharedAlloc& a, std::ptrdiff_t index, const Launch& L) {
  return std::string(a.site->name) + "[" + std::to_string(index) + "] (declared at " + where(*a.site) + ", block " +
         v3(L.group->blocks[static_cast<std::size_t>(a.owner_block)].idx) + ")";
}

// True when `prev` happens before the current access `now` through a barrier both took part in.
bool ordered(const AccessRec& prev, const AccessRec& now) {
  if (prev.group_epoch != now.group_epoch) return true;
  if (prev.block != now.block) return false;
  if (prev.block_epoch != now.block_epoch) return true;
  if (prev.warp != now.warp) return false;
  return prev.warp_epoch != now.warp_epoch;
}

void check_race(Launch& L, Thread& t, SharedAlloc& a, std::ptrdiff_t index, AccessKind kind) {
  Group& g = *L.group;
  Block& b = g.blocks[static_cast<std::size_t>(t.block)];
  AccessRec now;
  now.thread = t.gtid;
  now.block = t.block;
  now.warp = t.warp;
  now.group_epoch = g.epoch;
  now.block_epoch = b.epoch;
  now.warp_epoch = b.warps[static_cast<std::size_t>(t.warp)].epoch;
  now.atomic = kind == AccessKind::Atomic;
  detail::Shadow& s = a.shadow[static_cast<std::size_t>(index)];

  const char* verb = kind == AccessKind::Read ? "reads" : (kind == AccessKind::Write ? "writes" : "atomically updates");
  auto conflict = [&](const AccessRec& prev, const char* prev_verb, const char* what) {
    if (prev.thread < 0 || prev.thread == now.thread || (prev.atomic && now.atomic) || ordered(prev, now)) return;
    const Thread& other = g.threads[static_cast<std::size_t>(prev.thread)];
    fail(L, FaultKind::SharedRace,
         std::string("(") + what + ") on " + element(a, index, L) + ": " + describe(L, t) + " " + verb + " it; " +
             describe(L, other) + " " + prev_verb + " it and no barrier both took part in orders the two" +
             last_sync(t));
  };

  if (kind != AccessKind::Write && s.write.thread < 0 && L.opt.detect_uninitialized && !b.uninit_pending) {
    // Reported at this block's next barrier (or its end) unless a write by another thread in this
    // epoch shows it to be a race first.
    b.uninit_pending = true;
    b.uninit_message = describe(L, t) + " read " + element(a, index, L) + " before any thread wrote it" + last_sync(t);
  }
  if (kind == AccessKind::Read) {
    conflict(s.write, s.write.atomic ? "atomically updated" : "wrote", "read-after-write");
    // Keep up to two readers of the current epoch; drop readers a barrier has since ordered.
    auto obsolete = [&](const AccessRec& r) {
      return r.thread < 0 || r.group_epoch != now.group_epoch ||
             (r.block == now.block && r.block_epoch != now.block_epoch);
    };
    if (obsolete(s.read1)) {
      s.read1 = s.read2;
      s.read2 = AccessRec{};
    }
    if (obsolete(s.read2)) s.read2 = AccessRec{};
    if (s.read1.thread < 0 || s.read1.thread == now.thread)
      s.read1 = now;
    else
      s.read2 = now;
  } else {
    conflict(s.write, s.write.atomic ? "atomically updated" : "wrote", "write-after-write");
    conflict(s.read1, "read", "write-after-read");
    conflict(s.read2, "read", "write-after-read");
    s.write = now;
    s.read1 = AccessRec{};
    s.read2 = AccessRec{};
  }
}

}  // namespace internal

using namespace internal;

namespace detail {

SharedAlloc* shared_alloc(const SharedSite& site, std::size_t count, std::size_t elem_size, bool dynamic) {
  Launch& L = current_launch();
  Thread& t = *g_thread;
  return find_or_create(L, L.group->blocks[static_cast<std::size_t>(t.block)], t.block, site, count, elem_size,
                        dynamic);
}

std::size_t shared_count(const SharedAlloc* alloc) { return alloc->count; }

void* shared_access(SharedAlloc* alloc, std::ptrdiff_t index, AccessKind kind, std::uint64_t ref_sync) {
  Launch& L = current_launch();
  Thread& t = *g_thread;
  if (ref_sync != t.sync_count)
    fault(FaultKind::StaleSharedReference,
          "an element of " + std::string(alloc->site->name) + " (" + where(*alloc->site) +
              ") was referenced before a sync point and used after it (`auto v = smem[i];`? write the type: "
              "`float v = smem[i];`)");
  if (index < 0 || static_cast<std::size_t>(index) >= alloc->count)
    fault(FaultKind::SharedOutOfBounds,
          "access to " + element(*alloc, index, L) + ", outside its " + std::to_string(alloc->count) + " elements");
  ++L.stats.shared_accesses;
  if (!alloc->shadow.empty()) check_race(L, t, *alloc, index, kind);
  return alloc->data.get() + static_cast<std::size_t>(index) * alloc->elem_size;
}

SharedAlloc* cluster_map(SharedAlloc* alloc, unsigned rank) {
  Launch& L = current_launch();
  if (L.opt.cooperative) fault(FaultKind::Unsupported, "map_shared_rank inside a cooperative launch is not modelled");
  if (rank >= L.cluster_blocks)
    fault(FaultKind::SharedOutOfBounds, "map_shared_rank(" + std::string(alloc->site->name) + ", " +
                                            std::to_string(rank) + "): the cluster has " +
                                            std::to_string(L.cluster_blocks) + " blocks");
  for (std::size_t bi = 0; bi < L.group->blocks.size(); ++bi) {
    Block& b = L.group->blocks[bi];
    if (b.cluster_rank == rank)
      return find_or_create(L, b, static_cast<int>(bi), *alloc->site, alloc->count, alloc->elem_size, alloc->dynamic);
  }
  fault(FaultKind::Unsupported, "map_shared_rank: cluster rank not found");
}

}  // namespace detail
}  // namespace rnnad::sim
