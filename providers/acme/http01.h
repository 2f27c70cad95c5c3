// http-01 challenge responders (RFC 8555 section 8.3).
//
// A responder makes "http://<domain>/.well-known/acme-challenge/<token>" answer
// with the key authorization while a challenge is being validated, and takes
// it away again with cleanup(). Two implementations:
// - StandaloneHttp01: a cpp-httplib listener on "HOST:PORT" serving only that
//   path (404 for anything else), for hosts where nothing else owns port 80.
// - WebrootHttp01: writes files under DIR/.well-known/acme-challenge/ through
//   Env for an existing web server, removed on cleanup().
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "providers/base/env.h"
#include "providers/base/error.h"

namespace httplib {
class Server;
}

namespace edgecert::acme {

class Http01Responder {
 public:
  virtual ~Http01Responder() = default;
  virtual Status present(const std::string& domain, const std::string& token,
                         const std::string& key_authorization) = 0;
  virtual Status cleanup(const std::string& domain, const std::string& token) = 0;
};

// Tokens are base64url (RFC 8555 section 8.1); anything else is refused so
// that a hostile server cannot make us write outside the challenge folder.
bool is_valid_token(const std::string& token);

// Where http-01 is answered unless configured otherwise: port 80 of every
// interface, where the CA's validation connects.
inline constexpr const char* kDefaultHttp01Listen = "0.0.0.0:80";

class StandaloneHttp01 final : public Http01Responder {
 public:
  // Binds `listen` ("HOST:PORT", e.g. "127.0.0.1:5002" or "0.0.0.0:80") and
  // serves in a background thread until destroyed.
  static Result<std::unique_ptr<StandaloneHttp01>> start(const std::string& listen);
  ~StandaloneHttp01() override;
  StandaloneHttp01(const StandaloneHttp01&) = delete;
  StandaloneHttp01& operator=(const StandaloneHttp01&) = delete;

  Status present(const std::string& domain, const std::string& token,
                 const std::string& key_authorization) override;
  Status cleanup(const std::string& domain, const std::string& token) override;
  int port() const { return port_; }
  // Challenge requests answered with a key authorization (tests).
  int served() const { return served_.load(); }

 private:
  StandaloneHttp01();
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::string> tokens_;  // token -> key authorization
  int port_ = 0;
  std::atomic<int> served_{0};
};

class WebrootHttp01 final : public Http01Responder {
 public:
  WebrootHttp01(Env& env, std::string webroot) : env_(env), root_(std::move(webroot)) {}
  Status present(const std::string& domain, const std::string& token,
                 const std::string& key_authorization) override;
  Status cleanup(const std::string& domain, const std::string& token) override;
  std::string challenge_path(const std::string& token) const;

 private:
  Env& env_;
  std::string root_;
};

}  // namespace edgecert::acme
