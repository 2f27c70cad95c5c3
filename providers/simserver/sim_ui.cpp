#include "providers/simserver/sim_ui.h"

#include <functional>
#include <map>

#include <fmt/format.h>

#include "providers/pki/spki.h"
#include "providers/sim/sim_node.h"
#include "schema/values.h"

namespace edgecert::simserver {

namespace {

// A command's words after its name, and where to say what happened.
struct Call {
  Env& env;
  sim::SimNode& node;
  const std::string& name;
  std::vector<std::string> args;
  std::ostream& out;
};

// Outcome: the line to print, or an error (kInvalidArgument for the command
// line itself: exit 2).
using Outcome = Result<std::string>;

Error usage(std::string message) {
  return Error::InvalidArgument(std::move(message));
}

Outcome set_tls(Call& c) {
  if (c.args.size() != 1 || (c.args[0] != "permissive" && c.args[0] != "enforce"))
    return usage("set-tls takes permissive or enforce");
  const bool permissive = c.args[0] == "permissive";
  auto st = c.node.set_tls_verification(permissive ? spec::TlsVerification::kPermissive
                                                   : spec::TlsVerification::kEnforce);
  if (!st) return std::unexpected(st.error());
  return fmt::format("cluster TLS verification mode set to {}",
                     permissive ? "Permissive" : "Enforce");
}

Outcome delete_ca(Call& c) {
  if (c.args.size() != 1) return usage("delete-ca takes one SHA-256 fingerprint");
  auto st = c.node.delete_trusted_ca(c.args[0]);
  if (!st) return std::unexpected(st.error());
  return fmt::format("trusted CA certificate {} deleted", c.args[0]);
}

Outcome reset_cas(Call& c) {
  if (!c.args.empty()) return usage("reset-cas takes no arguments");
  auto st = c.node.reset_trusted_cas();
  if (!st) return std::unexpected(st.error());
  auto s = c.node.read_state();
  if (!s) return std::unexpected(s.error());
  return fmt::format("trusted CA list reset to the default ({} certificates)",
                     s->trusted_cas.size());
}

Outcome discard_csr(Call& c) {
  if (!c.args.empty()) return usage("discard-csr takes no arguments");
  auto st = c.node.discard_csr();
  if (!st) return std::unexpected(st.error());
  return std::string("pending CSR discarded");
}

Outcome set_crl(Call& c) {
  auto current = c.node.read_state();
  if (!current) return std::unexpected(current.error());
  node::CrlSettings s = current->crl;
  bool auto_given = false;
  std::vector<std::string> urls;
  bool urls_given = false;
  for (size_t i = 0; i < c.args.size(); ++i) {
    const std::string& a = c.args[i];
    if (i + 1 >= c.args.size()) return usage(fmt::format("set-crl: {} needs a value", a));
    const std::string& v = c.args[++i];
    if (a == "--auto") {
      if (v != "on" && v != "off") return usage("set-crl: --auto takes on or off");
      s.automatic_updates = v == "on";
      auto_given = true;
    } else if (a == "--url") {
      urls.push_back(v);
      urls_given = true;
    } else if (a == "--time") {
      auto m = schema::parse_time_of_day(v);
      if (!m) return usage(fmt::format("set-crl: --time '{}' is not HH:MM", v));
      s.daily_update_minute = *m;
    } else {
      return usage(fmt::format("set-crl: unknown option '{}'", a));
    }
  }
  if (!auto_given) return usage("set-crl needs --auto on|off");
  if (urls_given) s.distribution_points = urls;
  auto st = c.node.set_crl_settings(s);
  if (!st) return std::unexpected(st.error());
  return fmt::format("automatic CRL updates {}, {} distribution point(s), daily at {} UTC",
                     s.automatic_updates ? "on" : "off", s.distribution_points.size(),
                     schema::format_time_of_day(s.daily_update_minute));
}

Outcome upload_crl(Call& c) {
  if (c.args.size() != 1) return usage("upload-crl takes one file");
  auto data = c.env.read_file(c.args[0], read_limits::kCrl);
  if (!data) return std::unexpected(data.error());
  auto st = c.node.upload_manual_crl(*data);
  if (!st) return std::unexpected(st.error());
  return fmt::format("manual CRL uploaded from {} (SHA-256 {})", c.args[0],
                     pki::sha256_fingerprint(*data));
}

Outcome remove_crl(Call& c) {
  if (!c.args.empty()) return usage("remove-crl takes no arguments");
  auto st = c.node.remove_manual_crl();
  if (!st) return std::unexpected(st.error());
  return std::string("manual CRL removed");
}

Outcome put_file(Call& c) {
  if (c.args.size() != 1 && !(c.args.size() == 3 && c.args[1] == "--from"))
    return usage("put-file takes NODEPATH [--from FILE]");
  const std::string& node_path = c.args[0];
  const std::string from = c.args.size() == 3 ? c.args[2] : node_path;
  auto data = c.env.read_file(from, read_limits::kState);
  if (!data) return std::unexpected(data.error());
  const size_t size = data->size();
  auto st = c.node.put_file(node_path, std::move(*data));
  if (!st) return std::unexpected(st.error());
  return fmt::format("{} put on the node as {} ({} bytes)", from, node_path, size);
}

Outcome set_peers(Call& c) {
  std::optional<std::vector<std::string>> peers;
  if (!c.args.empty()) peers = c.args;
  auto st = c.node.set_cluster_peers(peers);
  if (!st) return std::unexpected(st.error());
  if (!peers) return std::string("cluster peers back to edgecert-sim's default (its nodes' FQDNs)");
  return fmt::format("cluster peers set to {}", fmt::join(*peers, ", "));
}

Outcome set_product(Call& c) {
  if (c.args.size() != 1 || (c.args[0] != "expressway-c" && c.args[0] != "expressway-e"))
    return usage("set-product takes expressway-c or expressway-e");
  const bool is_c = c.args[0] == "expressway-c";
  auto st = c.node.set_product(is_c ? node::Product::kExpresswayC : node::Product::kExpresswayE);
  if (!st) return std::unexpected(st.error());
  return fmt::format("product set to {}", is_c ? "Expressway-C" : "Expressway-E");
}

Outcome set_version(Call& c) {
  if (c.args.size() != 1) return usage("set-software-version takes one version (X15.0.2)");
  auto st = c.node.set_software_version(c.args[0]);
  if (!st) return std::unexpected(st.error());
  return fmt::format("software version set to {}", c.args[0]);
}

const std::map<std::string, std::function<Outcome(Call&)>>& commands() {
  static const std::map<std::string, std::function<Outcome(Call&)>> table = {
      {"set-tls", set_tls},
      {"delete-ca", delete_ca},
      {"reset-cas", reset_cas},
      {"discard-csr", discard_csr},
      {"set-crl", set_crl},
      {"upload-crl", upload_crl},
      {"remove-crl", remove_crl},
      {"put-file", put_file},
      {"set-peers", set_peers},
      {"set-product", set_product},
      {"set-software-version", set_version}};
  return table;
}

std::string command_list() {
  std::vector<std::string> names;
  for (const auto& [name, fn] : commands()) names.push_back(name);
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

int run_ui(Env& env, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto bad_line = [&](const std::string& message) {
    err << "edgecert-sim ui: " << message
        << "\nusage: edgecert-sim ui --state DIR NODE COMMAND [ARGS...]\n";
    return 2;
  };
  if (args.size() < 4 || args[0] != "--state")
    return bad_line("expected --state DIR NODE COMMAND; commands: " + command_list());
  const std::string& dir = args[1];
  const std::string& name = args[2];
  const std::string& command = args[3];
  auto it = commands().find(command);
  if (it == commands().end())
    return bad_line(fmt::format("unknown command '{}'; commands: {}", command, command_list()));
  sim::SimNode node(env, dir, name, name + ".example.com");
  if (!env.exists(node.state_path())) {
    err << fmt::format(
        "edgecert-sim ui: {}: no node file {} (start edgecert-sim with --node {}=... first, or "
        "check --state)\n",
        name, node.state_path(), name);
    return 1;
  }
  Call c{env, node, name, std::vector<std::string>(args.begin() + 4, args.end()), out};
  auto r = it->second(c);
  if (!r) {
    if (r.error().code == ErrorCode::kInvalidArgument && r.error().message.rfind(command, 0) == 0)
      return bad_line(r.error().message);
    err << fmt::format("edgecert-sim ui: {}: {}: {}\n", name, command, r.error().message);
    return 1;
  }
  out << fmt::format("{}: {}\n", name, *r);
  return 0;
}

}  // namespace edgecert::simserver
