// Severity of a finding: shared by schema diagnostics and pki checks.
#pragma once

namespace edgecert {

enum class Severity { kError, kWarning };

// "error", "warning"
const char* severity_name(Severity s);

}  // namespace edgecert
