// `rnnad validate` (docs/cli.md).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "command.h"
#include "option_checks.h"
#include "rnnad/device.h"
#include "rnnad/error.h"
#include "rnnad/model.h"
#include "rnnad/validate.h"

namespace rnnad::cli {

Command add_validate(CLI::App& parent) {
  struct Options {
    std::string model, reference, device = "auto";
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand("validate", "Run a model on the inputs of its reference file and compare with "
                                                    "PyTorch's outputs (exit 0 pass, 1 fail)");
  app->add_option("--model,-m", o->model, "Model file (.safetensors)")->required();
  app->add_option("--reference,-r", o->reference, "Reference file (default: MODEL with .reference.safetensors)");
  app->add_option("--device,-d", o->device, "auto, cpu, cuda or cuda:N")->check(device_choice())->capture_default_str();
  return {app, [o] {
            int index = 0;
            const Device device = checked_device(o->device, &index);
            // rnnad::validate() builds its engine on the first CUDA device; say so rather than
            // validating on another device than the one named.
            if (index != 0)
              throw UnsupportedError("--device " + o->device + ": validate runs on the first CUDA device only (cuda:0)");
            std::string reference = o->reference;
            if (reference.empty()) {
              reference = default_reference_path(o->model).string();
              if (!std::filesystem::exists(reference))
                throw IoError(reference + ": no such file (the default reference file of " + o->model +
                              "; give one with --reference)");
            }
            auto model = Model::load(o->model);
            const ValidationReport r = validate(model, reference, device);
            std::cout << o->model << ": " << r.summary() << "\n";
            if (!r.description.empty()) std::cout << "  reference: " << r.description << "\n";
            return r.passed ? kExitOk : kExitFailed;
          }};
}

}  // namespace rnnad::cli
