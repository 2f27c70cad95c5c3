// A scripted Expressway for the https:// provider's unit tests: a fake
// http::Transport and a fake ssh::Transport routed by request, whose replies
// are built with providers/wire's formatters (the same shapes edgecert-sim
// serves). Every request is recorded; one the fake has no route for is
// answered like the node (404 / "Unknown command") and listed in
// unrecognised(), which healthy-path tests require to be empty.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "providers/http/http_client.h"
#include "providers/ssh/ssh_client.h"
#include "providers/wire/rest_json.h"
#include "providers/wire/xacli.h"
#include "providers/wire/xml_status.h"

namespace edgecert::testing {

struct SeenHttp {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;
  bool capture = false;
  bool has_header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return true;
    return false;
  }
};

class FakeExpressway {
 public:
  using HttpHandler = std::function<Result<http::Response>(const SeenHttp&)>;
  using CliHandler = std::function<Result<std::string>(const wire::xacli::CommandLine&)>;

  // "GET /path" -> handler. A handler set by route() answers every time;
  // queue() answers once, before route().
  void route(const std::string& key, HttpHandler h) { http_routes_[key] = std::move(h); }
  void queue(const std::string& key, Result<http::Response> r) {
    http_queue_[key].push_back(std::move(r));
  }
  // Command words joined by one space ("xCommand ACME Settings Read").
  void cli(const std::string& words, CliHandler h) { cli_routes_[words] = std::move(h); }
  void cli_queue(const std::string& words, Result<std::string> r) {
    cli_queue_[words].push_back(std::move(r));
  }
  // The chain (PEM, leaf first) a handshake presents.
  std::vector<std::string> peer_chain;

  std::vector<SeenHttp> http_seen;
  std::vector<std::string> cli_seen;  // full command lines
  std::vector<std::string> unrecognised() const { return unrecognised_; }
  int closes = 0;

  static http::Response reply(long status, std::string body) {
    return http::Response{.status = status, .body = std::move(body)};
  }
  static http::Response message(long status, std::string text) {
    return reply(status, wire::rest::format_message(text));
  }
  static std::string cli_ok(wire::xacli::Reply r) { return wire::xacli::format_reply(r); }
  static std::string cli_error(std::string reason) {
    return wire::xacli::format_reply(wire::xacli::error_reply(std::move(reason)));
  }

  Result<http::Response> perform(const http::Request& r) {
    SeenHttp s{
        r.method, r.target, r.headers, std::string(r.body), r.content_type, r.capture_peer_chain};
    http_seen.push_back(s);
    const std::string key = r.method + " " + r.target;
    Result<http::Response> out = message(404, "Not Found");
    if (auto q = http_queue_.find(key); q != http_queue_.end() && !q->second.empty()) {
      out = std::move(q->second.front());
      q->second.pop_front();
    } else if (auto h = http_routes_.find(key); h != http_routes_.end()) {
      out = h->second(s);
    } else {
      unrecognised_.push_back(key);
    }
    if (out && r.capture_peer_chain) out->peer_chain = peer_chain;
    return out;
  }

  Result<std::string> run(std::string_view line) {
    cli_seen.emplace_back(line);
    auto cmd = wire::xacli::parse_command(line);
    if (!cmd) {
      unrecognised_.emplace_back(line);
      return cli_error("Unknown command");
    }
    const std::string words = fmt::format("{}", fmt::join(cmd->words, " "));
    if (auto q = cli_queue_.find(words); q != cli_queue_.end() && !q->second.empty()) {
      auto r = std::move(q->second.front());
      q->second.pop_front();
      return r;
    }
    if (auto h = cli_routes_.find(words); h != cli_routes_.end()) return h->second(*cmd);
    unrecognised_.emplace_back(line);
    return cli_error("Unknown command");
  }

  std::unique_ptr<http::Transport> http_transport();
  std::unique_ptr<ssh::Transport> ssh_transport();

 private:
  std::map<std::string, HttpHandler> http_routes_;
  std::map<std::string, std::deque<Result<http::Response>>> http_queue_;
  std::map<std::string, CliHandler> cli_routes_;
  std::map<std::string, std::deque<Result<std::string>>> cli_queue_;
  std::vector<std::string> unrecognised_;
};

namespace detail_fake {
class Http final : public http::Transport {
 public:
  explicit Http(FakeExpressway* f) : f_(f) {}
  Result<http::Response> perform(const http::Request& r) override { return f_->perform(r); }

 private:
  FakeExpressway* f_;
};
class Ssh final : public ssh::Transport {
 public:
  explicit Ssh(FakeExpressway* f) : f_(f) {}
  Result<std::string> banner() override { return std::string("OK\r\n"); }
  Result<std::string> run(std::string_view line) override { return f_->run(line); }
  void close() override { ++f_->closes; }

 private:
  FakeExpressway* f_;
};
}  // namespace detail_fake

inline std::unique_ptr<http::Transport> FakeExpressway::http_transport() {
  return std::make_unique<detail_fake::Http>(this);
}
inline std::unique_ptr<ssh::Transport> FakeExpressway::ssh_transport() {
  return std::make_unique<detail_fake::Ssh>(this);
}

}  // namespace edgecert::testing
