// INTERNAL to providers/rest: the CLI commands the https:// provider sends
// and how it reads their replies (the interface reference,
// expressway-interfaces.md §3.4), as pure functions over providers/wire's
// typed transcripts:
// - `xConfiguration SIP TLS Certificate Revocation Checking` (five `*c`
//   leaves: Mode, OCSP Mode, CRL Mode, CRL Network Fetch Mode On/Off;
//   Source Inaccessibility Behavior Ignore/Fail), set one leaf per command;
// - `xCommand ACME Providers Read/Write` (ProviderUuid, Name, Url, Email,
//   TermsOfService "Accepted"/"") and `xCommand ACME Settings Read/Write`
//   (AcmeManaged Disabled/Manual/Automated, ProviderUuid, RenewKey
//   Rotate/Retain, RenewalSchedule as JSON
//   {"DaysOfWeek":["Mon",...],"TimeOfDay":"HH:MM"}) — the enum spellings
//   other than "Automated" and "Rotate" are edgecert's [assumed] reading;
// - `xConfiguration Alternates` (Cluster Name, ConfigurationPrimary,
//   Peer 1..6 Address) and `xStatus SystemUnit` (Product, ProductType,
//   Uptime, Software Version).
// Keywords and enum values are compared case-insensitively (the CLI's are).
// A reply missing a field is kCorrupt naming the field and the command.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "providers/base/error.h"
#include "providers/node/node.h"
#include "providers/wire/xacli.h"
#include "providers/wire/xml_status.h"
#include "schema/spec.h"

namespace edgecert::rest::detail {

wire::xacli::CommandLine revocation_read_command();
Result<spec::RevocationChecking> revocation_from_reply(const wire::xacli::Reply& reply);
// One command per leaf, in the reference's order.
std::vector<wire::xacli::CommandLine> revocation_write_commands(
    const spec::RevocationChecking& settings);

// The ACME provider record edgecert manages ("Default").
inline constexpr const char* kAcmeProviderUuid = "Default";
wire::xacli::CommandLine acme_providers_read_command(const std::string& provider_uuid);
wire::xacli::CommandLine acme_settings_read_command();
// Settings Read's ProviderUuid ("" when the reply has none).
std::string acme_provider_uuid(const wire::xacli::Reply& settings_reply);
Result<node::AcmeSettings> acme_settings_from(const wire::xacli::Reply& providers_reply,
                                              const wire::xacli::Reply& settings_reply);
wire::xacli::CommandLine acme_providers_write_command(const node::AcmeSettings& settings);
wire::xacli::CommandLine acme_settings_write_command(const node::AcmeSettings& settings);
// `xCommand ACME <words>` without arguments (Sign, Deploy, "Get Pending
// Cert", "Delete Pending Cert").
wire::xacli::CommandLine acme_command(std::initializer_list<const char*> words);
// The PEM of `xCommand ACME Get Pending Cert`'s Certificate field.
Result<std::string> acme_pending_certificate(const wire::xacli::Reply& reply);
wire::xacli::CommandLine acme_revoke_command(const std::string& cert_path,
                                             const std::string& provider_name);

// RenewalSchedule JSON <-> Schedule; kCorrupt naming the problem.
std::string schedule_json(const spec::Schedule& schedule);
Result<spec::Schedule> schedule_from_json(std::string_view text);

wire::xacli::CommandLine alternates_command();
Result<wire::xml::Alternates> alternates_from_reply(const wire::xacli::Reply& reply);

struct UnitStatus {
  std::string product;       // "TANDBERG VCS"
  std::string product_type;  // "Expressway-E" | "Expressway-C" | ""
  std::string version;
  std::int64_t uptime_seconds = 0;
};
wire::xacli::CommandLine system_unit_command();
Result<UnitStatus> system_unit_from_reply(const wire::xacli::Reply& reply);

// "Expressway-E"/"Expressway-C" (any case) -> the product; anything else
// kUnknown.
node::Product product_from_type(std::string_view product_type);

}  // namespace edgecert::rest::detail
