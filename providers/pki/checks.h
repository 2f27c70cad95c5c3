// Expressway checks on certificates, keys and CA sets.
//
// Each finding has a stable id (used in tests, JSON output and suppression
// lists), a severity and a human message. The rules come from
// ../shared/reference/expressway.md §2 (certificate guide ch.1, ch.3, ch.6,
// App. A). One implementation serves spec validation (trusted CA files),
// `edgecert show`, the simulator's upload checks and the planner.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "providers/env/env.h"
#include "providers/pki/certificate.h"
#include "schema/diagnostic.h"

namespace edgecert::pki {

struct Finding {
  std::string id;  // e.g. "ca-without-basic-constraints", "wildcard-name"
  Severity severity = Severity::kError;
  std::string message;
  // For set checks: index of the certificate in the input it is about.
  std::optional<size_t> index;
};

// Checks a set of trusted CA certificates (in upload order) at time `now`:
// errors: CA without BasicConstraints CA:TRUE; more than 1000 CAs.
// warnings: expired; two CAs with the same CN; same-CN self-signed pair.
std::vector<Finding> check_ca_set(const std::vector<Certificate>& cas, TimePoint now);

}  // namespace edgecert::pki
