#include "providers/rest/node_channels.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "providers/wire/rest_json.h"

namespace edgecert::rest::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// A bounded one-line excerpt of a reply for messages.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 80)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > 80) out += "...";
  return out.empty() ? std::string("(empty reply)") : out;
}

bool looks_like_html(std::string_view body) {
  std::string start = lower(body.substr(0, 512));
  return contains(start, "<html") || contains(start, "<!doctype html");
}

// What an error reply says: its {"Message"} when it has one, else what it is.
std::string reply_detail(std::string_view body) {
  if (looks_like_html(body)) return "an HTML page (a login or proxy page?)";
  auto m = wire::rest::parse_message(body);
  if (m) return *m;
  return excerpt(body);
}

const char* interface_label(spec::Interface i) {
  switch (i) {
    case spec::Interface::kRest:
      return "rest";
    case spec::Interface::kXml:
      return "xml";
    case spec::Interface::kCli:
      return "cli";
  }
  return "?";
}

}  // namespace

ErrorCode code_for_http_status(long status) {
  switch (status) {
    case 400:
      return ErrorCode::kInvalidArgument;
    case 401:
    case 403:
      return ErrorCode::kPermission;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kAlreadyExists;
    case 500:
    case 501:
      return ErrorCode::kInternal;
    default:
      break;
  }
  if (status >= 500) return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

ErrorCode code_for_cli_reason(std::string_view reason) {
  const std::string r = lower(reason);
  if (contains(r, "unknown command")) return ErrorCode::kUnimplemented;
  if (contains(r, "cannot connect") || contains(r, "could not connect") ||
      contains(r, "timed out") || contains(r, "unreachable") || contains(r, "unavailable") ||
      contains(r, "cannot be reached") || contains(r, "connection refused"))
    return ErrorCode::kUnavailable;
  if (contains(r, "already")) return ErrorCode::kAlreadyExists;
  if (r.starts_with("no ") || contains(r, "not found") || contains(r, "does not exist") ||
      contains(r, "nothing is pending"))
    return ErrorCode::kNotFound;
  return ErrorCode::kInvalidArgument;
}

NodeChannels::NodeChannels(std::string node, Env& env, std::unique_ptr<http::Transport> http,
                           std::unique_ptr<ssh::Transport> ssh,
                           std::vector<spec::Interface> allowed, ChannelOptions options)
    : node_(std::move(node)),
      env_(env),
      http_(std::move(http)),
      ssh_(std::move(ssh)),
      allowed_(std::move(allowed)),
      options_(options) {}

bool NodeChannels::allows(spec::Interface i) const {
  if (i == spec::Interface::kCli && !ssh_) return false;
  return std::ranges::find(allowed_, i) != allowed_.end();
}

std::string NodeChannels::allowed_list() const {
  std::vector<std::string> names;
  for (spec::Interface i : allowed_) names.emplace_back(interface_label(i));
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

Error NodeChannels::not_allowed(std::string_view action, std::string_view needed) const {
  Error e = Error::Unimplemented(
      fmt::format("{}: {}: needs {}, and spec.access.interfaces allows only {}", node_, action,
                  needed, allowed_list()));
  e.node = node_;
  e.action = std::string(action);
  return e;
}

Error NodeChannels::failure(ErrorCode code, std::string_view where, std::string_view action,
                            std::string_view detail) const {
  Error e(code, fmt::format("{}: {} ({}): {}", node_, where, action, detail));
  e.node = node_;
  e.action = std::string(action);
  return e;
}

void NodeChannels::backoff(std::chrono::milliseconds& delay) {
  env_.sleep_for(delay);
  delay = std::min(delay * 2, options_.max_backoff);
}

Result<http::Response> NodeChannels::perform(std::string_view action, const std::string& where,
                                             const http::Request& request, int attempts,
                                             const std::vector<long>& accepted) {
  const bool read = request.method == "GET";
  std::chrono::milliseconds delay = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    Result<http::Response> r = http_->perform(request);
    Error last;
    bool retry = false;
    if (!r) {
      std::string msg = r.error().message;
      if (!read && msg.rfind("connection dropped", 0) == 0)
        msg +=
            "; it may have dropped after the request was applied: re-read the node's state "
            "before retrying";
      last = failure(r.error().code, where, action, msg);
      retry = read && r.error().code == ErrorCode::kUnavailable;
    } else if ((r->status >= 200 && r->status < 300) ||
               std::ranges::find(accepted, r->status) != accepted.end()) {
      return r;
    } else {
      std::string detail = fmt::format("HTTP {} {}", r->status, reason_phrase(r->status));
      while (!detail.empty() && detail.back() == ' ') detail.pop_back();
      std::string said = reply_detail(r->body);
      // A node that repeats the reason phrase ("Bad Request: <why>") says it once.
      const std::string phrase = reason_phrase(r->status);
      if (!phrase.empty() && said.rfind(phrase + ": ", 0) == 0)
        said = said.substr(phrase.size() + 2);
      if (!said.empty() && said != phrase) detail += ": " + said;
      if (r->status == 401) detail += " (check access.username and access.passwordFrom)";
      if (r->status == 403)
        detail +=
            " (the account needs API access, which advanced account security mode turns off; "
            "edgecert sends X-CSRF-Header on every write)";
      last = failure(code_for_http_status(r->status), where, action, detail);
      retry = read && (r->status == 502 || r->status == 503 || r->status == 504);
    }
    if (!retry || attempt >= attempts) {
      if (attempt > 1) last.message += fmt::format(" (after {} attempts)", attempt);
      return std::unexpected(last);
    }
    backoff(delay);
  }
}

Result<http::Response> NodeChannels::rest(std::string_view action, const RestCall& call) {
  if (!allows(spec::Interface::kRest)) return not_allowed(action, "REST");
  http::Request req;
  req.method = call.method;
  req.target = call.path;
  req.body = call.body;
  req.content_type = call.content_type;
  req.capture_peer_chain = call.capture_peer_chain;
  req.timeout = call.timeout;
  req.accept = "application/json, text/plain, */*";
  const bool read = req.method == "GET";
  if (!read) req.headers.emplace_back("X-CSRF-Header", "edgecert");
  int attempts =
      call.attempts > 0 ? call.attempts : (read ? std::max(1, options_.read_attempts) : 1);
  return perform(action, fmt::format("REST {} {}", call.method, call.path), req, attempts,
                 call.accepted);
}

Result<std::string> NodeChannels::rest_message(std::string_view action, const RestCall& call) {
  auto r = rest(action, call);
  if (!r) return std::unexpected(r.error());
  auto m = wire::rest::parse_message(r->body);
  if (!m)
    return failure(ErrorCode::kCorrupt, fmt::format("REST {} {}", call.method, call.path), action,
                   looks_like_html(r->body)
                       ? std::string("not JSON: an HTML page (a login or proxy page?)")
                       : m.error().message);
  return m;
}

Result<std::string> NodeChannels::rest_pem(std::string_view action, const std::string& path) {
  auto r = rest(action, {.method = "GET", .path = path});
  if (!r) return std::unexpected(r.error());
  if (!contains(r->body, "-----BEGIN "))
    return failure(ErrorCode::kCorrupt, "REST GET " + path, action,
                   looks_like_html(r->body)
                       ? std::string("not PEM: an HTML page (a login or proxy page?)")
                       : fmt::format("not PEM: '{}'", excerpt(r->body)));
  return std::move(r->body);
}

Result<wire::xml::StatusDocument> NodeChannels::xml_status(std::string_view action,
                                                           const std::string& path,
                                                           const XmlCall& call) {
  if (!allows(spec::Interface::kXml)) return not_allowed(action, "XML");
  http::Request req;
  req.method = "GET";
  req.target = path;
  req.accept = "text/xml, application/xml, */*";
  req.capture_peer_chain = call.peer_chain != nullptr;
  req.timeout = call.timeout;
  const std::string where = "XML " + path;
  auto r = perform(action, where, req,
                   call.attempts > 0 ? call.attempts : std::max(1, options_.read_attempts), {});
  if (!r) return std::unexpected(r.error());
  auto doc = wire::xml::parse_status(r->body);
  if (!doc) {
    std::string detail = doc.error().message;
    if (doc.error().code == ErrorCode::kCorrupt && !detail.starts_with("not XML"))
      detail = (looks_like_html(r->body) ? "not XML: " : "") + detail;
    return failure(doc.error().code, where, action, detail);
  }
  if (call.peer_chain) *call.peer_chain = std::move(r->peer_chain);
  return doc;
}

Result<wire::xml::Alternates> NodeChannels::xml_alternates(std::string_view action) {
  if (!allows(spec::Interface::kXml)) return not_allowed(action, "XML");
  http::Request req;
  req.method = "GET";
  req.target = wire::xml::kAlternatesPath;
  req.accept = "text/xml, application/xml, */*";
  const std::string where = fmt::format("XML {}", wire::xml::kAlternatesPath);
  auto r = perform(action, where, req, std::max(1, options_.read_attempts), {});
  if (!r) return std::unexpected(r.error());
  auto alt = wire::xml::parse_alternates(r->body);
  if (!alt) {
    std::string detail = alt.error().message;
    if (looks_like_html(r->body) && !detail.starts_with("not XML")) detail = "not XML: " + detail;
    return failure(alt.error().code, where, action, detail);
  }
  return alt;
}

Result<wire::xacli::Reply> NodeChannels::cli(std::string_view action,
                                             const wire::xacli::CommandLine& command, bool read,
                                             bool allow_error) {
  if (!allows(spec::Interface::kCli)) return not_allowed(action, "the CLI over SSH");
  auto line = wire::xacli::format_command(command);
  const std::string words = fmt::format("{}", fmt::join(command.words, " "));
  const std::string where = "SSH " + words;
  if (!line) return failure(ErrorCode::kInvalidArgument, where, action, line.error().message);
  const int attempts = read ? std::max(1, options_.read_attempts) : 1;
  std::chrono::milliseconds delay = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    Result<std::string> text = ssh_->run(*line);
    if (!text) {
      // The session is gone or unusable: the next command opens a new one.
      ssh_->close();
      std::string msg = text.error().message;
      if (!read && text.error().code == ErrorCode::kUnavailable)
        msg += "; the command may have been applied: re-read the node's state before retrying";
      Error e = failure(text.error().code, where, action, msg);
      if (read && text.error().code == ErrorCode::kUnavailable && attempt < attempts) {
        backoff(delay);
        continue;
      }
      if (attempt > 1) e.message += fmt::format(" (after {} attempts)", attempt);
      return std::unexpected(e);
    }
    auto reply = wire::xacli::parse_reply(*text, *line);
    if (!reply) {
      // A reply we cannot read leaves the session out of step: start afresh.
      ssh_->close();
      std::string detail = reply.error().message;
      if (looks_like_html(*text))
        detail = "not a CLI reply: an HTML page";
      else if (contains(detail, "truncated") || contains(detail, "is empty"))
        detail = "truncated reply: " + detail;
      return failure(ErrorCode::kCorrupt, where, action, detail);
    }
    if (!reply->ok && !allow_error) {
      std::string reason;
      for (const auto& r : reply->results)
        if (auto v = wire::xacli::find(r.fields, "Reason"); v && v->value) reason = v->value->text;
      if (reason.empty()) reason = "the node answered ERROR";
      return failure(code_for_cli_reason(reason), where, action, reason);
    }
    return reply;
  }
}

void NodeChannels::close_cli() {
  if (ssh_) ssh_->close();
}

}  // namespace edgecert::rest::detail
