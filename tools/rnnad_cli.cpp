// rnnad: command-line front end, one file per subcommand in tools/cli/ (docs/cli.md). The only
// place that turns errors into exit codes: 0 success, 1 validation failed, 2 usage error, 3 bad
// input (rnnad::Error: file, format, shape, device), 4 internal error.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "rnnad/error.h"
#include "rnnad/version.h"

int main(int argc, char** argv) {
  using namespace rnnad::cli;
  CLI::App app{"rnnad: LSTM/GRU inference for time-series anomaly detection"};
  app.set_version_flag("--version", std::string("rnnad ") + rnnad::version());
  app.require_subcommand(1);
  std::vector<Command> commands{add_validate(app), add_inspect(app)};
#ifdef RNNAD_HAVE_CSV_IO
  commands.push_back(add_detect(app));
  commands.push_back(add_eval(app));
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (docs/cli.md).
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
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
