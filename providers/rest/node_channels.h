// INTERNAL to providers/rest: the three interfaces of one Expressway node as
// the https:// provider uses them (the interface reference,
// expressway-interfaces.md §1-§3): REST under /api/provisioning, the legacy
// XML status documents over the same HTTPS connection, and the CLI over SSH.
//
// Every failure is an Error that names the node, the interface, the request
// (method and path, or the command's words) and the operation:
//   edge1: REST GET /api/provisioning/certs/root (read trusted CAs): HTTP 401 Unauthorized ...
//   edge1: XML /getxml?location=/Status/SystemUnit (read product and version): not XML: ...
//   edge1: SSH xCommand ACME Settings Read (read ACME settings): truncated reply: ...
// with Error::node and Error::action set. Passwords never reach a message (the
// transports hold them; command values are never echoed either, only the
// command's words).
//
// Reads (REST and XML GETs, CLI xStatus/xConfiguration reads and `... Read`
// commands) are retried on kUnavailable with exponential backoff through
// Env::sleep_for; writes never are: a dropped reply may hide an applied
// change, so the caller re-reads the node's state.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/http/http_client.h"
#include "providers/ssh/ssh_client.h"
#include "providers/wire/rest_json.h"
#include "providers/wire/xacli.h"
#include "providers/wire/xml_status.h"
#include "schema/spec.h"

namespace edgecert::rest::detail {

struct ChannelOptions {
  int read_attempts = 3;  // 1 = no retry
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{4000};
};

// The HTTP reason phrase edgecert prints for a status ("Unauthorized").
using wire::rest::reason_phrase;
// HTTP status -> error category: 400 kInvalidArgument, 401/403 kPermission,
// 404 kNotFound, 409 kAlreadyExists, 500/501 kInternal, other 5xx
// kUnavailable, anything else kInternal (a protocol mismatch).
ErrorCode code_for_http_status(long status);
// The category of a CLI `*r Result (status=Error)` Reason, edgecert's reading
// of a text the CLI does not document: "No ..."/"not found" kNotFound,
// "already" kAlreadyExists, "Unknown command" kUnimplemented, connection
// trouble ("cannot connect", "timed out", "unreachable", "unavailable")
// kUnavailable, anything else kInvalidArgument (the node refused).
ErrorCode code_for_cli_reason(std::string_view reason);

class NodeChannels {
 public:
  // `ssh` may be null when the CLI is not allowed.
  NodeChannels(std::string node, Env& env, std::unique_ptr<http::Transport> http,
               std::unique_ptr<ssh::Transport> ssh, std::vector<spec::Interface> allowed,
               ChannelOptions options);

  const std::string& node() const { return node_; }
  Env& env() { return env_; }
  bool allows(spec::Interface i) const;
  // "rest, xml" for messages.
  std::string allowed_list() const;
  // kUnimplemented: `action` needs one of `needed`, none of which
  // access.interfaces allows.
  Error not_allowed(std::string_view action, std::string_view needed) const;

  struct RestCall {
    const char* method = "GET";
    std::string path;
    std::string_view body{};
    std::string content_type{};
    bool capture_peer_chain = false;
    // Statuses other than 2xx handed back as responses instead of errors
    // (404 for "no pending CSR").
    std::vector<long> accepted{};
    std::optional<std::chrono::milliseconds> timeout{};
    int attempts = 0;  // 0 = read_attempts for a GET, 1 otherwise
  };
  // A POST/PUT/DELETE carries X-CSRF-Header: edgecert.
  Result<http::Response> rest(std::string_view action, const RestCall& call);
  // A write whose reply is {"Message": ...}: the Message, or an error naming
  // a reply that is not one (an HTML login page).
  Result<std::string> rest_message(std::string_view action, const RestCall& call);
  // A GET whose 2xx reply is PEM text; an HTML page or anything else without
  // a PEM block is kCorrupt.
  Result<std::string> rest_pem(std::string_view action, const std::string& path);

  struct XmlCall {
    // Opens a new connection and hands the peer's chain (PEM, leaf first) back.
    std::vector<std::string>* peer_chain = nullptr;
    std::optional<std::chrono::milliseconds> timeout{};
    int attempts = 0;  // 0 = read_attempts
  };
  // GET of a <Status> document (/getxml?location=...), parsed.
  Result<wire::xml::StatusDocument> xml_status(std::string_view action, const std::string& path,
                                               const XmlCall& call);
  Result<wire::xml::Alternates> xml_alternates(std::string_view action);

  // One CLI command, parsed. An ERROR reply is an error (category per
  // code_for_cli_reason, message the node's Reason) unless `allow_error`,
  // which hands the reply back. `read` commands are retried like GETs.
  Result<wire::xacli::Reply> cli(std::string_view action, const wire::xacli::CommandLine& command,
                                 bool read, bool allow_error = false);
  // Ends the SSH session (a restart drops it); the next command opens one.
  void close_cli();

  // "edge1: REST GET /path (action): detail" with node and action set.
  Error failure(ErrorCode code, std::string_view where, std::string_view action,
                std::string_view detail) const;

 private:
  Result<http::Response> perform(std::string_view action, const std::string& where,
                                 const http::Request& request, int attempts,
                                 const std::vector<long>& accepted);
  void backoff(std::chrono::milliseconds& delay);

  std::string node_;
  Env& env_;
  std::unique_ptr<http::Transport> http_;
  std::unique_ptr<ssh::Transport> ssh_;
  std::vector<spec::Interface> allowed_;
  ChannelOptions options_;
};

}  // namespace edgecert::rest::detail
