#include "alloc_counter.h"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RNNAD_TEST_SANITIZER_HOOKS 1
// Declared here because GCC's runtime ships no sanitizer/allocator_interface.h header.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                          void (*free_hook)(const volatile void*));
#endif

namespace {
std::atomic<bool> g_active{false};
std::atomic<std::uint64_t> g_count{0};
inline void note() {
  if (g_active.load(std::memory_order_relaxed)) g_count.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#ifdef RNNAD_TEST_SANITIZER_HOOKS
namespace {
void malloc_hook(const volatile void*, std::size_t) { note(); }
void free_hook(const volatile void*) {}
struct InstallHooks {
  InstallHooks() { __sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook); }
} g_install;
}  // namespace
#else
// glibc's real allocator entry points.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
  note();
  return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
  note();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* memalign(std::size_t align, std::size_t n) {
  note();
  return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  note();
  return __libc_memalign(align, n);
}
void* valloc(std::size_t n) {
  note();
  return __libc_memalign(4096, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  note();
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return 22;  // EINVAL
  void* p = __libc_memalign(align, n);
  if (!p && n != 0) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}

// operator new goes through the counted malloc; aligned variants through posix_memalign.
namespace {
void* new_impl(std::size_t n) {
  void* p = malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  return p;
}
void* new_aligned(std::size_t n, std::align_val_t a) {
  void* p = nullptr;
  if (posix_memalign(&p, static_cast<std::size_t>(a), n == 0 ? 1 : n) != 0) throw std::bad_alloc();
  return p;
}
}  // namespace
void* operator new(std::size_t n) { return new_impl(n); }
void* operator new[](std::size_t n) { return new_impl(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return malloc(n == 0 ? 1 : n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return malloc(n == 0 ? 1 : n); }
void* operator new(std::size_t n, std::align_val_t a) { return new_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return new_aligned(n, a); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, std::size_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { free(p); }
#endif

namespace rnnad::test {

AllocationRegion::AllocationRegion() {
  g_count.store(0);
  g_active.store(true);
}
AllocationRegion::~AllocationRegion() { stop(); }
void AllocationRegion::stop() { g_active.store(false); }
std::uint64_t AllocationRegion::count() const { return g_count.load(); }

bool allocation_counting_works() {
  AllocationRegion region;
  void* volatile p = std::malloc(16);
  std::free(p);
  int* volatile q = new int(3);
  delete q;
  region.stop();
  return region.count() >= 2;
}

}  // namespace rnnad::test
