// Wiring: the one place that knows every built-in implementation.
//
// The node interface (providers/node) and the issuer interface
// (providers/issuer) hold only registries; this file registers the
// implementations compiled into edgecert: node providers by URL scheme
// (sim://, https://) and issuers by `issuer.type` (openssl-ca, external,
// acme, expressway-acme). A new transport or issuer is one line here.
#pragma once

namespace edgecert::cli {

// Registers every built-in node provider and issuer. Idempotent and
// thread-safe; run_cli calls it, and so does the test runner before any test
// (a test may then register a fake for a scheme, replacing the built-in).
void register_builtins();

}  // namespace edgecert::cli
