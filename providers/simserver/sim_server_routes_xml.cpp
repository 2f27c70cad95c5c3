// The legacy XML over HTTPS (the interface reference §3.3): /status.xml,
// /getxml?location=/Status/SystemUnit and /Status/Warnings (XPathError for
// any other location), /alternatesconfiguration.xml; and what the node
// reports there (shared with the CLI's xStatus and xConfiguration Alternates).
#include <fmt/core.h>

#include "providers/simserver/sim_server_internal.h"
#include "providers/wire/xml_status.h"

namespace edgecert::simserver::internal {

namespace {

using Req = NodeRoutes::Req;
using Res = NodeRoutes::Res;
namespace xml = wire::xml;

constexpr const char* kProduct = "TANDBERG VCS";

bool host_is_invalid(const std::string& url) {
  // http(s)://HOST[:PORT]/...: RFC 2606's .invalid never resolves.
  size_t start = url.find("://");
  if (start == std::string::npos) return false;
  start += 3;
  size_t end = url.find_first_of(":/", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  const std::string suffix = ".invalid";
  return host == "invalid" || (host.size() > suffix.size() && host.ends_with(suffix));
}

// The alarms the appliance raises for this state, by number (§3.3's table):
// 40049 while cluster TLS verification is permissive; 40068 once the server
// certificate has expired or expires today, 40069 within 30 days; 40001 when
// automatic CRL updates are on without distribution points; 40002 and 40006
// when they are on and a distribution point cannot be fetched (the simulator
// fetches nothing: a host under RFC 2606's .invalid stands for one that
// fails).
std::vector<NodeAlarm> alarms_of(const node::NodeState& st, TimePoint now) {
  std::vector<NodeAlarm> out;
  if (st.tls_verification == spec::TlsVerification::kPermissive) out.push_back({40049, 0});
  if (!st.server_chain.empty()) {
    const pki::Certificate& leaf = st.server_chain.front();
    auto days = std::chrono::duration_cast<std::chrono::hours>(leaf.not_after() - now).count() / 24;
    if (leaf.is_expired_at(now) || days < 1) {
      out.push_back({40068, 0});
    } else if (days <= 30) {
      out.push_back({40069, static_cast<int>(days)});
    }
  }
  if (st.crl.automatic_updates) {
    if (st.crl.distribution_points.empty()) {
      out.push_back({40001, 0});
    } else if (std::ranges::any_of(st.crl.distribution_points, host_is_invalid)) {
      out.push_back({40002, 0});
      out.push_back({40006, 0});
    }
  }
  return out;
}

std::string product_type(node::Product p) {
  return p == node::Product::kExpresswayC ? "Expressway-C" : "Expressway-E";
}

xml::StatusDocument status_document(const ApplianceView& v, bool system_unit, bool warnings) {
  xml::StatusDocument doc;
  doc.product_attribute = kProduct;
  doc.version_attribute = v.version;
  if (system_unit)
    doc.system_unit = xml::SystemUnit{kProduct, v.version, v.uptime_seconds, v.product_type};
  if (warnings) {
    doc.warnings.emplace();
    for (const NodeAlarm& a : v.alarms) {
      auto reason = xml::reason_for_alarm(a.number, a.days);
      if (!reason) continue;  // alarms_of raises only numbers the table has
      doc.warnings->push_back(
          xml::Warning{fmt::format("00000000-0000-4000-8000-0000000{:05}", a.number), *reason,
                       "Unacknowledged"});
    }
  }
  return doc;
}

void send_xml(Res res, const std::string& body) {
  res.status = 200;
  res.set_content(body, "text/xml");
}

}  // namespace

Result<ApplianceView> appliance_view(NodeServer& n, sim::SimNode& sim) {
  auto st = sim.read_state();
  if (!st) return std::unexpected(st.error());
  ApplianceView v;
  v.product_type = product_type(st->product);
  v.version = st->software_version;
  v.uptime_seconds = st->uptime_seconds.value_or(0);
  v.alarms = alarms_of(*st, n.env.now());
  v.cluster_name = n.shared.options.cluster_name;
  v.peers = st->cluster_peers ? *st->cluster_peers : n.shared.default_peers();
  return v;
}

void install_xml_routes(httplib::SSLServer& s, NodeRoutes r) {
  auto status = [r](Req req, Res res, bool system_unit, bool warnings) {
    r.run(
        req, res, [&](sim::SimNode& sim) { return appliance_view(r.node(), sim); },
        [&](const ApplianceView& v) {
          send_xml(res, xml::format_status(status_document(v, system_unit, warnings)));
        });
  };
  s.Get("/status.xml", [status](Req req, Res res) { status(req, res, true, true); });
  s.Get("/getxml", [r, status](Req req, Res res) {
    const std::string location = req.get_param_value("location");
    if (location == "/Status") return status(req, res, true, true);
    if (location == "/Status/SystemUnit") return status(req, res, true, false);
    if (location == "/Status/Warnings") return status(req, res, false, true);
    r.node().shared.record_unrecognised(r.node().listener.name, "GET /getxml?location=" + location,
                                        "XPathError");
    send_xml(res, xml::format_xpath_error("No match on Path " + location));
  });
  s.Get("/alternatesconfiguration.xml", [r](Req req, Res res) {
    r.run(
        req, res, [&](sim::SimNode& sim) { return appliance_view(r.node(), sim); },
        [&](const ApplianceView& v) {
          xml::Alternates a;
          a.cluster_name = v.cluster_name;
          a.configuration_primary = 1;
          for (size_t i = 0; i < v.peers.size() && i < 6; ++i)
            a.peers.push_back(xml::Peer{static_cast<int>(i) + 1, v.peers[i]});
          send_xml(res, xml::format_alternates(a));
        });
  });
}

}  // namespace edgecert::simserver::internal
