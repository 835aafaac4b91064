// rnnad: command-line front end, one file per subcommand in tools/cli/ (docs/cli.md). The only
// place that turns errors into exit codes: 0 success, 1 validation failed, 2 usage error, 3 bad
// input (rnnad::Error: file, format, shape, device), 4 internal error. Every error is one line on
// stderr, "rnnad: error: <message>".
#include <CLI/CLI.hpp>
#include <cctype>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "rnnad/error.h"
#include "rnnad/version.h"

namespace {

/// Prints a usage error as one line and returns exit code 2 (docs/cli.md): "rnnad: error:
/// <message> (see rnnad detect --help)". Names an unknown subcommand and lists the valid ones
/// (CLI11 only says that a subcommand is required).
int usage_error(const CLI::App& app, const CLI::ParseError& e, const std::vector<rnnad::cli::Command>& commands,
                int argc, char** argv) {
  std::string message = e.what(), help = "rnnad --help";
  if (!app.get_subcommands().empty()) {
    help = "rnnad " + app.get_subcommands().front()->get_name() + " --help";
  } else {
    std::string names;
    for (const rnnad::cli::Command& c : commands) names += (names.empty() ? "" : ", ") + c.app->get_name();
    // The top level has only --help and --version, which take no value: the first other argument
    // should have named a subcommand.
    const std::string first = argc > 1 ? argv[1] : "";
    if (first.empty())
      message = "a subcommand is required: " + names;
    else if (first[0] != '-')
      message = "unknown subcommand '" + first + "'; the subcommands are " + names;
    else
      message = "unknown option '" + first + "'; give a subcommand first: " + names;
  }
  // CLI11's sentences ("The following argument was not expected: ...") continue after "error: ".
  if (!message.empty() && std::isupper(static_cast<unsigned char>(message[0])))
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  std::cerr << "rnnad: error: " << message << " (see " << help << ")\n";
  return rnnad::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace rnnad::cli;
  CLI::App app{"rnnad: LSTM/GRU inference for time-series anomaly detection"};
  app.set_version_flag("--version", std::string("rnnad ") + rnnad::version());
  app.require_subcommand(1);
  std::vector<Command> commands{add_validate(app), add_inspect(app)};
#ifdef RNNAD_HAVE_CSV_IO
  commands.push_back(add_detect(app));
  commands.push_back(add_eval(app));
  commands.push_back(add_stream(app));
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and exit 0; every usage error is one line and exits 2.
    if (e.get_exit_code() == 0) return app.exit(e);
    return usage_error(app, e, commands, argc, argv);
  }
  try {
    for (const Command& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const rnnad::Error& e) {
    std::cerr << "rnnad: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "rnnad: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitOk;
}
