// The rnnad subcommands: each add_* registers its options on the app and returns the function
// that runs it (docs/cli.md). Only main() (rnnad_cli.cpp) turns errors into exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace rnnad::cli {

/// Exit codes (docs/cli.md): 0 success, 1 validation ran and failed, 2 usage error, 3 bad input
/// (any rnnad::Error: file, format, shape, device), 4 internal error.
inline constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitBadInput = 3, kExitInternal = 4;

/// A registered subcommand: its CLI11 app and what runs it after parsing (returns the exit code;
/// throws rnnad::Error for bad input).
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

/// `rnnad validate`: run a model on its reference inputs and compare with PyTorch's outputs.
Command add_validate(CLI::App& parent);
/// `rnnad inspect`: kind, shapes, parameter count, normalisation, scoring, threshold defaults.
Command add_inspect(CLI::App& parent);
/// `rnnad detect`: score a CSV series, threshold, events, metrics against labels, outputs.
/// Registered only when the CSV reader (rnnad_io, libcsv) was built.
Command add_detect(CLI::App& parent);
/// `rnnad eval`: metrics of an existing detect output against labels.
Command add_eval(CLI::App& parent);
/// `rnnad stream`: live lines stream_id,timestamp,values through a StreamPool; alarms as JSON
/// lines (docs/streaming.md). Registered only with rnnad_io (it parses cells with its helpers).
Command add_stream(CLI::App& parent);

}  // namespace rnnad::cli
