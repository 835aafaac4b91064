#include "rnnad/version.h"

namespace rnnad {

const char* version() { return RNNAD_VERSION_STRING; }

}  // namespace rnnad
