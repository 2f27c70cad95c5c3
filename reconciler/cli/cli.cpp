#include "reconciler/cli/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "reconciler/cli/wiring.h"
#include "schema/values.h"

namespace edgecert {

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = {
      {"validate", "Check spec files: structure, values and referenced files", setup_validate},
      {"status", "Show the live certificate state of every node (read-only)", setup_status},
      {"probe",
       "First look at real nodes over REST, XML and SSH: what edgecert can automate "
       "(read-only)",
       setup_probe},
      {"show", "Decode certificates, CSRs, CRLs and keys; list Expressway checks", setup_show},
      {"plan", "Show what apply would change, node by node (read-only)", setup_plan},
      {"approve", "Record an approval of a saved plan (spec.rollout.changeControl)", setup_approve},
      {"apply", "Take the cluster to the spec, one node at a time", setup_apply},
      {"check",
       "Report drift and certificate expiry for monitoring; exit 2 when an apply is needed "
       "(read-only)",
       setup_check},
      {"force-unlock", "Remove a cluster lock left behind by a dead run", setup_force_unlock},
      {"ca", "Manage a local CA for the openssl-ca issuer", setup_ca},
      {"acme", "Use the ACME client directly (issue a certificate)", setup_acme},
      {"revoke", "Revoke a certificate a node no longer uses (never one in use)", setup_revoke},
      {"crl", "Fetch and check the spec's CRL sources now (crl check)", setup_crl},
  };
  return table;
}

namespace {

// The first word that is not an option names the command (the top level has
// no option taking a value). An unknown one gets the nearest command, the way
// git does, instead of CLI11's "arguments were not expected".
std::optional<std::string> unknown_command(const std::vector<std::string>& args) {
  auto word = std::find_if(args.begin(), args.end(),
                           [](const std::string& a) { return a.empty() || a[0] != '-'; });
  if (word == args.end()) return std::nullopt;
  std::vector<std::string> names;
  for (const CommandSpec& cmd : command_table()) names.emplace_back(cmd.name);
  if (std::find(names.begin(), names.end(), *word) != names.end()) return std::nullopt;
  std::string msg = fmt::format("edgecert: unknown command '{}'.", *word);
  if (auto near = schema::suggest(*word, names))
    msg += fmt::format(" Did you mean '{}'?", *near);
  else
    msg += fmt::format(" Commands: {}.", fmt::join(names, ", "));
  return msg + "\nRun 'edgecert --help' for usage.";
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  CliContext ctx{default_env(), std::cout, std::cerr, static_cast<bool>(::isatty(0)), &std::cin};
  ctx.env_thread_safe = true;  // the POSIX Env
  // TZ exists before any thread starts (providers/base/time.cpp changes it
  // in place, never adding or removing it). Unset means /etc/localtime.
  ::setenv("TZ", ":/etc/localtime", 0);
  return run_cli(args, ctx);
}

int run_cli(const std::vector<std::string>& args, CliContext& ctx) {
  cli::register_builtins();
  CLI::App app{"edgecert: certificates of Cisco Expressway clusters, as code", "edgecert"};
  app.set_version_flag("--version", std::string("edgecert ") + EDGECERT_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  std::function<int()> action;
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions;
  for (const CommandSpec& cmd : command_table()) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.description);
    actions.emplace_back(sub, cmd.setup(*sub, ctx));
  }

  if (auto unknown = unknown_command(args)) {
    ctx.err << *unknown << "\n";
    return kExitError;
  }

  // CLI11 parses a reversed vector (it pops from the back).
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    ctx.out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    ctx.out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    ctx.out << "edgecert " << EDGECERT_VERSION << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // Help requested on a subcommand arrives as CallForHelp too, handled above.
    ctx.err << "edgecert: error: " << e.what() << "\n";
    ctx.err << "Run 'edgecert --help' for usage.\n";
    return kExitError;
  }

  for (auto& [sub, act] : actions) {
    if (sub->parsed()) return act();
  }
  ctx.err << "edgecert: error: no command given\n";
  return kExitError;
}

}  // namespace edgecert
