// The Expressway's legacy XML over HTTPS, both directions: the status
// documents (`/status.xml`, `/getxml?location=/Status/SystemUnit`,
// `/getxml?location=/Status/Warnings`) and `/alternatesconfiguration.xml`,
// parsed for the provider and formatted for the simulator (the interface
// reference, §3.3).
//
// Parsing contract:
// - libxml2, namespace-aware: elements count when they are in the CUIL
//   namespace (`xmlns="http://www.tandberg.no/XML/CUIL/1.0"`) or in none;
//   elements in other namespaces, unknown elements and attributes (`item`)
//   are ignored.
// - No network access, no entity substitution, and a document with a DTD is
//   refused; input over kMaxXmlBytes is refused before parsing.
// - A reply that is not XML is kCorrupt saying so; an HTML page (a login or
//   proxy page) is named as such; the wrong root element is kCorrupt naming
//   the expected one; `<XPathError>` is kNotFound carrying its Reason.
// - Numbers that do not parse (Uptime) are kCorrupt naming the element.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/error.h"

namespace edgecert::wire::xml {

inline constexpr const char* kCuilNamespace = "http://www.tandberg.no/XML/CUIL/1.0";
inline constexpr size_t kMaxXmlBytes = 4 * 1024 * 1024;

// The HTTP paths of these documents.
inline constexpr const char* kSystemUnitPath = "/getxml?location=/Status/SystemUnit";
inline constexpr const char* kWarningsPath = "/getxml?location=/Status/Warnings";
inline constexpr const char* kStatusXmlPath = "/status.xml";
inline constexpr const char* kAlternatesPath = "/alternatesconfiguration.xml";

struct SystemUnit {
  std::string product;  // "TANDBERG VCS"
  std::string version;  // Software/Version, "X15.0.2"
  std::int64_t uptime_seconds = 0;
  // <ProductType>: "Expressway-C" or "Expressway-E" [assumed: the C/E tell
  // is not in the X8.11 capture]; "" when the element is absent.
  std::string product_type;
  friend bool operator==(const SystemUnit&, const SystemUnit&) = default;
};

struct Warning {
  std::string id;      // a UUID; the alarm number is not in the XML
  std::string reason;  // "Title - Description"
  std::string state;   // "Unacknowledged" | "Acknowledged"
  friend bool operator==(const Warning&, const Warning&) = default;
};

// One `<Status>` document. A part is set only when its element was present
// (`/getxml?location=/Status/Warnings` carries no SystemUnit, and an empty
// `<Warnings/>` means no alarms).
struct StatusDocument {
  std::string product_attribute;  // <Status product="...">, "" when absent
  std::string version_attribute;  // <Status version="...">, "" when absent
  std::optional<SystemUnit> system_unit;
  std::optional<std::vector<Warning>> warnings;
  friend bool operator==(const StatusDocument&, const StatusDocument&) = default;
};

// SystemUnit needs Product, Uptime and Software/Version (ProductType is
// optional); a Warning needs
// Reason and State (ID may be empty).
Result<StatusDocument> parse_status(std::string_view body);
// `<?xml ...?>` + `<Status xmlns=CUIL product= version=>` with `item`
// attributes as a real node writes them.
std::string format_status(const StatusDocument& doc);
// The reply to an unknown location: `<Status><XPathError><Reason>`.
std::string format_xpath_error(std::string_view reason);

// The alarm number a Warning's Reason stands for (the reference's table:
// 40049 Cluster TLS permissive; 40068 server certificate expired / expires
// today; 40069 expires in N days; 40001, 40002, 40006 the CRL security
// alerts), or nullopt for any other text.
std::optional<int> alarm_for_reason(std::string_view reason);
// The Reason text for one of those alarms (40069 with `days`); kInvalidArgument
// for another number.
Result<std::string> reason_for_alarm(int alarm, int days = 0);

struct Peer {
  int index = 0;  // 1..6
  std::string address;
  friend bool operator==(const Peer&, const Peer&) = default;
};

// `<Configuration><Alternates>`: the node's own view of its cluster.
struct Alternates {
  std::string cluster_name;       // Alternates/Cluster/Name
  int configuration_primary = 0;  // Alternates/ConfigurationPrimary, 1..6
  std::vector<Peer> peers;        // non-empty addresses only, by index
  friend bool operator==(const Alternates&, const Alternates&) = default;
};

// Peer index from the Peer's `item` attribute (else its position), 1..6;
// ConfigurationPrimary must be 1..6 when present (0 when absent).
Result<Alternates> parse_alternates(std::string_view body);
std::string format_alternates(const Alternates& alternates);

}  // namespace edgecert::wire::xml
