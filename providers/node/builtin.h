// The providers compiled into edgecert, registered on first use of the
// registry. Registration is explicit (not a static initializer) because
// edgecert_core is a static library: an object file nobody references would
// be dropped by the linker together with its self-registration.
#pragma once

namespace edgecert::node {

// Registers every built-in scheme: "sim" (providers/sim), "https" (providers/rest).
// Add one line to builtin.cpp per new provider.
void register_builtin_node_providers();

}  // namespace edgecert::node
