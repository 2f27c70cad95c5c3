// A cpp-httplib server on a free loopback port, running on its own thread,
// for tests of HTTP clients (the transport, the CRL fetcher, OCSP).
// Register handlers on server() before start(); the destructor stops it.
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

namespace edgecert::testing {

class LocalHttpServer {
 public:
  // Plain HTTP.
  LocalHttpServer() : server_(std::make_unique<httplib::Server>()) {}
  // HTTPS presenting the PEM certificate (chain) and key in these files.
  LocalHttpServer(const std::string& cert_path, const std::string& key_path)
      : server_(std::make_unique<httplib::SSLServer>(cert_path.c_str(), key_path.c_str())),
        https_(true) {
    REQUIRE(server_->is_valid());
  }
  ~LocalHttpServer() { stop(); }
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  httplib::Server& server() { return *server_; }

  // Binds a free port on `host` (the socket listens from here on) and serves.
  void start(const std::string& host = "127.0.0.1") {
    host_ = host;
    port_ = server_->bind_to_any_port(host.c_str());
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // stop() before the accept loop runs would be lost and join() would hang.
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  void stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path ("https://localhost:PORT" + path for HTTPS,
  // the name a test certificate carries).
  std::string url(const std::string& path) const {
    return (https_ ? "https://localhost:" : "http://" + host_ + ":") + std::to_string(port_) + path;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  bool https_ = false;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace edgecert::testing
