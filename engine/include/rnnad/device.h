// Compute devices and run-time CUDA detection. No CUDA header is needed to use this file:
// what was built is found out at run time (cuda_built()).
#pragma once

#include <string>

namespace rnnad {

/// Where an Engine runs. Auto: a GPU when one is usable by a built CUDA backend, else the CPU
/// (with a one-line notice). Cuda: a CUDA device or an error, never a silent CPU fallback.
enum class Device { Auto, Cpu, Cuda };

/// "auto", "cpu" or "cuda".
const char* device_name(Device device);

/// Parses "auto", "cpu", "cuda" or "cuda:N" (N written to *index when given). Throws Error
/// naming the text otherwise.
Device parse_device(const std::string& text, int* index = nullptr);

/// True when this library was built with the CUDA kernels (RNNAD_CUDA found nvcc).
bool cuda_built();

/// Number of usable CUDA devices: 0 in a CPU-only build and whenever the CUDA runtime reports
/// any error (no driver, no device), as design.md §5 requires.
int cuda_device_count();

}  // namespace rnnad
