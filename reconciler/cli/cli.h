// The edgecert command line.
//
// Conventions other tools depend on: exit 0 on success, 1 on any error, 2
// for "changes present" under `plan --detailed-exitcode` and for "an apply is
// needed" from `check`, 3 when apply stopped
// cleanly to wait for something outside edgecert (signed certificates from
// the external issuer's CA, or the next rollout window: run apply again then),
// 4 when apply stopped cleanly before a manual step (something a node has no
// interface for: do it in the web UI as printed, then run apply again, with
// --confirm-manual for what the node cannot show);
// diagnostics go to stderr as `PATH:LINE:COL: severity: message`; `--output
// json` puts JSON on stdout and nothing else there (one document; for apply,
// one event per line, docs/apply-events.md).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "providers/base/env.h"
#include "providers/revocation/crl_fetch.h"

namespace CLI {
class App;
}

namespace edgecert {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitChanges = 2;
inline constexpr int kExitWaiting = 3;
inline constexpr int kExitManual = 4;

// What a command may touch. Tests pass a MemoryEnv and string streams.
struct CliContext {
  Env& env;
  std::ostream& out;
  std::ostream& err;
  bool stdin_is_tty = false;
  // Where answers to prompts come from (apply's approval); null = no input.
  std::istream* in = nullptr;
  // How CRL distribution points and OCSP responders are reached (plan,
  // apply, status, crl check); empty = the real network. Tests inject a fake.
  revocation::TransportFactory crl_transport{};
  // `env` may be used from many threads as it is (the POSIX Env). Otherwise
  // (tests' MemoryEnv) a command that runs clusters concurrently wraps it in
  // a SynchronizedEnv.
  bool env_thread_safe = false;
};

// Entry point of the `edgecert` binary: real Env, std::cout/std::cerr.
int run_cli(int argc, char** argv);
// Testable entry point; args excludes the program name.
int run_cli(const std::vector<std::string>& args, CliContext& ctx);

// One subcommand. `setup` declares the subcommand's options on `app` and
// returns the action to run after a successful parse; the action returns the
// exit status.
struct CommandSpec {
  const char* name;
  const char* description;
  std::function<std::function<int()>(CLI::App& app, CliContext& ctx)> setup;
};

// The command table (reconciler/cli/cli.cpp); one line per subcommand.
const std::vector<CommandSpec>& command_table();

// Subcommand set-up functions, one per file reconciler/cmd_<name>.cpp.
std::function<int()> setup_validate(CLI::App& app, CliContext& ctx);
std::function<int()> setup_status(CLI::App& app, CliContext& ctx);
std::function<int()> setup_show(CLI::App& app, CliContext& ctx);
std::function<int()> setup_ca(CLI::App& app, CliContext& ctx);
std::function<int()> setup_plan(CLI::App& app, CliContext& ctx);
std::function<int()> setup_check(CLI::App& app, CliContext& ctx);
std::function<int()> setup_apply(CLI::App& app, CliContext& ctx);
std::function<int()> setup_force_unlock(CLI::App& app, CliContext& ctx);
std::function<int()> setup_approve(CLI::App& app, CliContext& ctx);
std::function<int()> setup_acme(CLI::App& app, CliContext& ctx);
std::function<int()> setup_revoke(CLI::App& app, CliContext& ctx);
std::function<int()> setup_probe(CLI::App& app, CliContext& ctx);
std::function<int()> setup_crl(CLI::App& app, CliContext& ctx);

}  // namespace edgecert
