// rnnad version (semantic versioning; the model file format has its own version, model.h).
#pragma once

namespace rnnad {

/// "MAJOR.MINOR.PATCH" of this library, e.g. "0.1.0".
const char* version();

}  // namespace rnnad
