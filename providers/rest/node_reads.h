// INTERNAL to providers/rest: the reads the https:// provider builds
// NodeState from, each over the interface the reference names first and its
// alternative when access.interfaces leaves that out (rest_provider.h lists
// them). Errors name node, interface, request and operation (node_channels.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "providers/node/node.h"
#include "providers/pki/certificate.h"
#include "providers/rest/cli_settings.h"
#include "providers/rest/node_channels.h"
#include "providers/rest/rest_api.h"
#include "providers/wire/xml_status.h"

namespace edgecert::rest::detail {

// PEM certificates (a handshake's chain) parsed, in order.
Result<std::vector<pki::Certificate>> parse_chain(const std::vector<std::string>& pems);

// What SystemUnit says; `known` false when neither XML nor the CLI is allowed.
struct Unit {
  bool known = false;
  UnitStatus status;
};
// SystemUnit by XML, else by the CLI (xStatus SystemUnit); `peer_chain`
// (when set) receives the chain of the XML request's handshake.
Result<Unit> read_unit(NodeChannels& ch, const char* action, std::vector<std::string>* peer_chain,
                       std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                       int attempts = 0);
// GET certs/generate_csr: the pending CSR, nullopt on 404.
Result<std::optional<node::PendingCsr>> read_pending_csr(NodeChannels& ch);
// GET certs/root, in the node's order.
Result<std::vector<pki::Certificate>> read_trusted_cas(NodeChannels& ch, const char* action);
// GET /getxml?location=/Status/Warnings: alarms by the reference's Reason
// texts (an unknown one keeps the node's UUID as its id).
Result<std::vector<node::Alarm>> read_alarms(NodeChannels& ch);
// The CLI's SIP TLS revocation checking, else REST certrevokecheck.
Result<spec::RevocationChecking> read_revocation(NodeChannels& ch);
// The CLI's xConfiguration Alternates, else /alternatesconfiguration.xml.
Result<wire::xml::Alternates> read_alternates(NodeChannels& ch);
// The ACME certificate waiting for deploy (nullopt: none): the CLI's Get
// Pending Cert (an ERROR reply = none), else REST GET pendingcert (404 = none).
Result<std::optional<std::string>> read_acme_pending(NodeChannels& ch);
// xCommand ACME Settings Read, then Providers Read for its provider (none
// configured yet: the settings without a provider).
Result<node::AcmeSettings> read_acme_settings(NodeChannels& ch);

}  // namespace edgecert::rest::detail
