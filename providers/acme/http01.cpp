#include "providers/acme/http01.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include <fmt/core.h>

namespace edgecert::acme {

namespace {
constexpr const char* kPrefix = "/.well-known/acme-challenge/";
}

bool is_valid_token(const std::string& token) {
  if (token.empty() || token.size() > 256) return false;
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

StandaloneHttp01::StandaloneHttp01() : server_(std::make_unique<httplib::Server>()) {}

namespace {
// httplib's stop() does nothing until listen_after_bind() has marked the
// server running, and the thread would then block in accept() for ever: a
// responder destroyed right after start() (an order failing at once) must
// first see the thread get there. Bounded, in case the thread never does.
void wait_until_running(httplib::Server& server, std::chrono::milliseconds bound) {
  auto until = std::chrono::steady_clock::now() + bound;
  while (!server.is_running() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
}
}  // namespace

StandaloneHttp01::~StandaloneHttp01() {
  if (server_ && thread_.joinable()) {
    wait_until_running(*server_, std::chrono::seconds(2));
    server_->stop();
  }
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<StandaloneHttp01>> StandaloneHttp01::start(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("http-01 listen address {}: expected HOST:PORT", listen));
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("http-01 listen address {}: bad port", listen));
  std::unique_ptr<StandaloneHttp01> self(new StandaloneHttp01());
  StandaloneHttp01* raw_self = self.get();
  self->server_->Get(R"(/\.well-known/acme-challenge/([A-Za-z0-9_-]+))",
                     [raw_self](const httplib::Request& req, httplib::Response& res) {
                       std::lock_guard lock(raw_self->mu_);
                       auto it = raw_self->tokens_.find(req.matches[1]);
                       if (it == raw_self->tokens_.end()) {
                         res.status = 404;
                         return;
                       }
                       res.set_content(it->second, "application/octet-stream");
                       ++raw_self->served_;
                     });
  // Anything else: 404 (httplib's default for unmatched routes).
  if (port == 0) {
    port = self->server_->bind_to_any_port(host.c_str());
    if (port <= 0)
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("http-01 listener: cannot bind {}", listen));
  } else if (!self->server_->bind_to_port(host.c_str(), port)) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("http-01 listener: cannot bind {}", listen));
  }
  self->port_ = port;
  self->thread_ = std::thread([raw_self] { raw_self->server_->listen_after_bind(); });
  wait_until_running(*self->server_, std::chrono::seconds(5));
  return self;
}

Status StandaloneHttp01::present(const std::string& domain, const std::string& token,
                                 const std::string& key_authorization) {
  if (!is_valid_token(token))
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("http-01 {}: token is not base64url", domain));
  std::lock_guard lock(mu_);
  tokens_[token] = key_authorization;
  return {};
}

Status StandaloneHttp01::cleanup(const std::string&, const std::string& token) {
  std::lock_guard lock(mu_);
  tokens_.erase(token);
  return {};
}

std::string WebrootHttp01::challenge_path(const std::string& token) const {
  return path_join(root_, std::string(kPrefix + 1) + token);
}

Status WebrootHttp01::present(const std::string& domain, const std::string& token,
                              const std::string& key_authorization) {
  if (!is_valid_token(token))
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("http-01 {}: token is not base64url", domain));
  std::string path = challenge_path(token);
  if (auto s = env_.create_dirs(path_dirname(path), 0755); !s)
    return std::unexpected(s.error().with_context(fmt::format("http-01 {}", domain)));
  // World-readable on purpose: the web server, not us, serves the file.
  if (auto s = env_.write_file_atomic(path, key_authorization, 0644); !s)
    return std::unexpected(s.error().with_context(fmt::format("http-01 {}", domain)));
  return {};
}

Status WebrootHttp01::cleanup(const std::string& domain, const std::string& token) {
  if (!is_valid_token(token)) return {};
  std::string path = challenge_path(token);
  if (!env_.exists(path)) return {};
  if (auto s = env_.remove_file(path); !s)
    return std::unexpected(s.error().with_context(fmt::format("http-01 {}", domain)));
  return {};
}

}  // namespace edgecert::acme
