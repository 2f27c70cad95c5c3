// edgecert-sim: simulated Expressway nodes over HTTPS and SSH
// (providers/simserver).
//
//   edgecert-sim --state DIR --node edge1=127.0.0.1:0 --node edge2=127.0.0.1:9444
//                [--ssh edge1=127.0.0.1:0] [--fqdn edge1=edge1.example.com]
//                [--product edge1=expressway-c] [--software-version edge1=X14.3.1]
//                [--cluster-name NAME] [--restart-seconds S]
//                [--restart-refuses-connections on|off]
//                [--latency MS] [--fail-rate P] [--username U] --password-file F
//                [--acme-http01-listen edge1=127.0.0.1:5002] [--scheduler-interval MS]
//   edgecert-sim ui --state DIR NODE COMMAND [ARGS...]      (sim_ui.h)
//
// Prints one line per node once it listens, "NAME listening on HOST:PORT"
// (the real port when 0 was asked), followed, for a node with --ssh, by
// "NAME ssh listening on HOST:PORT", then "edgecert-sim ready". A node booted
// by this start is an Expressway-E running X14.3.1 (SimNode's fresh install,
// which the node contract suite checks over https:// too) unless --product or
// --software-version say otherwise; those flags always overwrite the node
// file. Runs until SIGTERM or SIGINT, then stops every listener and exits 0.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "providers/base/fence.h"
#include "providers/sim/sim_node.h"
#include "providers/simserver/sim_server.h"
#include "providers/simserver/sim_ui.h"

namespace {

using namespace edgecert;

int fail(const std::string& message) {
  std::cerr << "edgecert-sim: " << message << "\n";
  return 2;
}

// "HOST:PORT" of `flag`'s value.
Result<std::pair<std::string, int>> host_port(const std::string& flag, const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{} '{}': expected HOST:PORT", flag, text));
  try {
    return std::pair{text.substr(0, colon), std::stoi(text.substr(colon + 1))};
  } catch (const std::exception&) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{} '{}': the port must be a number", flag, text));
  }
}

// NAME=VALUE flags as a map.
Result<std::map<std::string, std::string>> assignments(const char* flag,
                                                       const std::vector<std::string>& values) {
  std::map<std::string, std::string> out;
  for (const std::string& f : values) {
    auto kv = simserver::split_assignment(flag, f);
    if (!kv) return std::unexpected(kv.error());
    out[kv->first] = kv->second;
  }
  return out;
}

int sim_main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "ui") {
    std::vector<std::string> args(argv + 2, argv + argc);
    return simserver::run_ui(default_env(), args, std::cout, std::cerr);
  }
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
  std::vector<std::string> ssh_flags;
  std::vector<std::string> product_flags;
  std::vector<std::string> version_flags;
  std::string cluster_name = "cluster";
  std::string refuse_while_restarting = "on";
  app.add_option("--state", state_dir, "folder of the node files")->required();
  app.add_option("--node", node_flags, "NAME=HOST:PORT (PORT 0 = any free port)")->required();
  app.add_option("--fqdn", fqdn_flags,
                 "NAME=FQDN for a node's first boot (default NAME.example.com)");
  app.add_option("--ssh", ssh_flags,
                 "NAME=HOST:PORT: the node's CLI over SSH (PORT 0 = any free port); host key "
                 "<state>/NAME.ssh_host_key");
  app.add_option("--product", product_flags,
                 "NAME=expressway-c|expressway-e (a new node: expressway-e)");
  app.add_option("--software-version", version_flags,
                 "NAME=VERSION, e.g. X15.0.2 (a new node: X14.3.1)");
  app.add_option("--cluster-name", cluster_name,
                 "the cluster name every node reports (default cluster)");
  app.add_option("--restart-refuses-connections", refuse_while_restarting,
                 "on (default): a restarting node's listeners are closed; off: they stay open "
                 "and answer 503")
      ->check(CLI::IsMember({"on", "off"}));
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

  auto fqdns = assignments("--fqdn", fqdn_flags);
  auto http01 = assignments("--acme-http01-listen", http01_flags);
  auto ssh = assignments("--ssh", ssh_flags);
  auto products = assignments("--product", product_flags);
  auto versions = assignments("--software-version", version_flags);
  for (const auto* m : {&fqdns, &http01, &ssh, &products, &versions})
    if (!*m) return fail(m->error().message);

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
  options.cluster_name = cluster_name;
  options.refuse_connections_while_restarting = refuse_while_restarting == "on";
  for (const std::string& f : node_flags) {
    auto kv = simserver::split_assignment("--node", f);
    if (!kv) return fail(kv.error().message);
    simserver::NodeListener l;
    l.name = kv->first;
    auto hp = host_port("--node " + l.name, kv->second);
    if (!hp) return fail(hp.error().message);
    l.host = hp->first;
    l.port = hp->second;
    auto it = fqdns->find(l.name);
    l.fqdn = it != fqdns->end() ? it->second : l.name + ".example.com";
    if (auto s = ssh->find(l.name); s != ssh->end()) {
      auto shp = host_port("--ssh " + l.name, s->second);
      if (!shp) return fail(shp.error().message);
      l.ssh_host = shp->first;
      l.ssh_port = shp->second;
    }
    options.nodes.push_back(l);
  }

  auto known = [&](const std::string& name) {
    return std::any_of(options.nodes.begin(), options.nodes.end(),
                       [&](const simserver::NodeListener& l) { return l.name == name; });
  };
  for (const auto& [name, aliases] : chat_aliases)
    if (!known(name)) return fail(fmt::format("--chat-node-aliases {}: no --node {}", name, name));
  for (const auto& [flag, map] :
       {std::pair{"--acme-http01-listen", &*http01}, std::pair{"--ssh", &*ssh},
        std::pair{"--product", &*products}, std::pair{"--software-version", &*versions}})
    for (const auto& [name, value] : *map)
      if (!known(name)) return fail(fmt::format("{} {}: no --node {}", flag, name, name));

  // Command-line settings go into the node files, where every process
  // driving the node (this server, tests, edgecert itself) sees them.
  for (const simserver::NodeListener& l : options.nodes) {
    sim::SimNode node(env, state_dir, l.name, l.fqdn);
    const bool first_boot = !env.exists(node.state_path());
    if (auto st = node.ensure_booted(); !st) return fail(l.name + ": " + st.error().message);
    std::string product = first_boot ? "expressway-e" : "";
    if (auto it = products->find(l.name); it != products->end()) product = it->second;
    if (!product.empty()) {
      if (product != "expressway-c" && product != "expressway-e")
        return fail(
            fmt::format("--product {}: '{}' is not expressway-c or expressway-e", l.name, product));
      auto st = node.set_product(product == "expressway-c" ? node::Product::kExpresswayC
                                                           : node::Product::kExpresswayE);
      if (!st) return fail(l.name + ": " + st.error().message);
    }
    if (auto it = versions->find(l.name); it != versions->end()) {
      if (auto st = node.set_software_version(it->second); !st)
        return fail(l.name + ": --software-version: " + st.error().message);
    }
    if (restart_seconds) {
      if (auto st = node.set_restart_seconds(*restart_seconds); !st)
        return fail(l.name + ": " + st.error().message);
    }
    if (auto it = chat_aliases.find(l.name); it != chat_aliases.end()) {
      if (auto st = node.set_chat_node_aliases(it->second); !st)
        return fail(l.name + ": " + st.error().message);
    }
    if (auto it = http01->find(l.name); it != http01->end()) {
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

  const std::vector<simserver::NodeListener> listeners = options.nodes;
  simserver::SimServer server(env, std::move(options));
  auto ports = server.start();
  if (!ports) return fail(ports.error().message);
  const std::vector<int> ssh_ports = server.ssh_ports();
  for (size_t i = 0; i < listeners.size(); ++i) {
    const simserver::NodeListener& l = listeners[i];
    std::cout << fmt::format("{} listening on {}:{}\n", l.name, l.host, (*ports)[i]);
    if (l.ssh_port >= 0)
      std::cout << fmt::format("{} ssh listening on {}:{}\n", l.name, l.ssh_host, ssh_ports[i]);
  }
  std::cout << "edgecert-sim ready" << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  std::cerr << fmt::format("edgecert-sim: stopped ({})\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return edgecert::run_fenced("edgecert-sim", [&] { return sim_main(argc, argv); });
}
