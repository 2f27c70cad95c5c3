#include "providers/base/severity.h"

namespace edgecert {

const char* severity_name(Severity s) {
  return s == Severity::kError ? "error" : "warning";
}

}  // namespace edgecert
