// edgecert-sim: simulated Expressway nodes over HTTPS (providers/simserver).
//
//   edgecert-sim --state DIR --node edge1=127.0.0.1:0 --node edge2=127.0.0.1:9444
//                [--fqdn edge1=edge1.example.com] [--restart-seconds S]
//                [--latency MS] [--fail-rate P] [--username U] --password-file F
//                [--acme-http01-listen edge1=127.0.0.1:5002] [--scheduler-interval MS]
//
// Prints one line per node once it listens, "NAME listening on HOST:PORT"
// (the real port when 0 was asked), then "edgecert-sim ready". Runs until
// SIGTERM or SIGINT, then stops every listener and exits 0.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "providers/sim/sim_node.h"
#include "providers/simserver/sim_server.h"

namespace {

using namespace edgecert;

int fail(const std::string& message) {
  std::cerr << "edgecert-sim: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgecert-sim: simulated Expressway nodes behind the Expressway REST API"};
  std::string state_dir;
  std::vector<std::string> node_flags;
  std::vector<std::string> fqdn_flags;
  std::optional<int> restart_seconds;
  std::optional<int> latency_ms;
  std::optional<double> fail_rate;
  std::string username = "admin";
  std::string password_file;
  std::vector<std::string> http01_flags;
  int scheduler_interval_ms = 1000;
  std::vector<std::string> chat_alias_flags;
  app.add_option("--state", state_dir, "folder of the node files")->required();
  app.add_option("--node", node_flags, "NAME=HOST:PORT (PORT 0 = any free port)")->required();
  app.add_option("--fqdn", fqdn_flags,
                 "NAME=FQDN for a node's first boot (default NAME.example.com)");
  app.add_option("--restart-seconds", restart_seconds, "restart duration of every node");
  app.add_option("--latency", latency_ms, "latency added to every request (ms)");
  app.add_option("--fail-rate", fail_rate, "probability (0..1) that a request fails with 503");
  app.add_option("--username", username, "HTTP Basic user name (default admin)");
  app.add_option("--password-file", password_file, "file holding the HTTP Basic password")
      ->required();
  app.add_option("--acme-http01-listen", http01_flags,
                 "NAME=HOST:PORT where a node serves ACME http-01 challenges while it signs "
                 "(default 0.0.0.0:80; NAME=none: no listener)");
  app.add_option("--chat-node-aliases", chat_alias_flags,
                 "NAME=ALIAS[,ALIAS...]: the node acts as an Expressway-C that discovered these "
                 "IM and Presence chat node aliases and adds them to every CSR it generates");
  app.add_option("--scheduler-interval", scheduler_interval_ms,
                 "how often the nodes' ACME schedulers run, in ms (0 = only on requests)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Env& env = default_env();
  auto pw = node::resolve_password_from(env, "file:" + password_file);
  if (!pw) return fail(pw.error().message);

  std::map<std::string, std::string> fqdns;
  for (const std::string& f : fqdn_flags) {
    auto kv = simserver::split_assignment("--fqdn", f);
    if (!kv) return fail(kv.error().message);
    fqdns[kv->first] = kv->second;
  }

  std::map<std::string, std::string> http01;
  for (const std::string& f : http01_flags) {
    auto kv = simserver::split_assignment("--acme-http01-listen", f);
    if (!kv) return fail(kv.error().message);
    http01[kv->first] = kv->second;
  }

  std::map<std::string, std::vector<std::string>> chat_aliases;
  for (const std::string& f : chat_alias_flags) {
    auto kv = simserver::split_assignment("--chat-node-aliases", f);
    if (!kv) return fail(kv.error().message);
    std::vector<std::string> names;
    for (size_t start = 0; start <= kv->second.size();) {
      size_t comma = kv->second.find(',', start);
      std::string one =
          kv->second.substr(start, comma == std::string::npos ? comma : comma - start);
      if (!one.empty()) names.push_back(one);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    chat_aliases[kv->first] = names;
  }

  simserver::SimServerOptions options;
  options.state_dir = state_dir;
  options.scheduler_interval = std::chrono::milliseconds(scheduler_interval_ms);
  options.username = username;
  options.password = std::move(*pw);
  for (const std::string& f : node_flags) {
    auto kv = simserver::split_assignment("--node", f);
    if (!kv) return fail(kv.error().message);
    simserver::NodeListener l;
    l.name = kv->first;
    auto colon = kv->second.rfind(':');
    if (colon == std::string::npos)
      return fail(fmt::format("--node '{}': expected NAME=HOST:PORT", f));
    l.host = kv->second.substr(0, colon);
    try {
      l.port = std::stoi(kv->second.substr(colon + 1));
    } catch (const std::exception&) {
      return fail(fmt::format("--node '{}': the port must be a number", f));
    }
    auto it = fqdns.find(l.name);
    l.fqdn = it != fqdns.end() ? it->second : l.name + ".example.com";
    options.nodes.push_back(l);
  }

  auto known = [&](const std::string& name) {
    return std::any_of(options.nodes.begin(), options.nodes.end(),
                       [&](const simserver::NodeListener& l) { return l.name == name; });
  };
  for (const auto& [name, aliases] : chat_aliases)
    if (!known(name)) return fail(fmt::format("--chat-node-aliases {}: no --node {}", name, name));
  for (const auto& [name, listen] : http01)
    if (!known(name)) return fail(fmt::format("--acme-http01-listen {}: no --node {}", name, name));

  // Command-line settings go into the node files, where every process
  // driving the node (this server, tests, edgecert itself) sees them.
  for (const simserver::NodeListener& l : options.nodes) {
    sim::SimNode node(env, state_dir, l.name, l.fqdn);
    if (auto st = node.ensure_booted(); !st) return fail(l.name + ": " + st.error().message);
    if (restart_seconds) {
      if (auto st = node.set_restart_seconds(*restart_seconds); !st)
        return fail(l.name + ": " + st.error().message);
    }
    if (auto it = chat_aliases.find(l.name); it != chat_aliases.end()) {
      if (auto st = node.set_chat_node_aliases(it->second); !st)
        return fail(l.name + ": " + st.error().message);
    }
    if (auto it = http01.find(l.name); it != http01.end()) {
      if (auto st = node.set_acme_http01_listen(it->second); !st)
        return fail(l.name + ": " + st.error().message);
    }
    if (latency_ms || fail_rate) {
      auto f = node.faults();
      if (!f) return fail(l.name + ": " + f.error().message);
      if (latency_ms) f->latency_ms = *latency_ms;
      if (fail_rate) f->failure_rate = *fail_rate;
      if (auto st = node.set_faults(*f); !st) return fail(l.name + ": " + st.error().message);
    }
  }

  simserver::SimServer server(env, std::move(options));
  auto ports = server.start();
  if (!ports) return fail(ports.error().message);
  // Re-read the listeners from the flags (options moved into the server).
  for (size_t i = 0; i < node_flags.size(); ++i) {
    auto kv = simserver::split_assignment("--node", node_flags[i]);
    std::string host = kv->second.substr(0, kv->second.rfind(':'));
    std::cout << fmt::format("{} listening on {}:{}\n", kv->first, host, (*ports)[i]);
  }
  std::cout << "edgecert-sim ready" << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  std::cerr << fmt::format("edgecert-sim: stopped ({})\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  return 0;
}
