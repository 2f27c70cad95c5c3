// A Pebble (Let's Encrypt's ACME test server) child process for tests.
//
// Makes Pebble's TLS CA and localhost certificate with the openssl CLI in a
// TempDir, writes a config with free loopback ports (bind port 0, close, use;
// retried when Pebble loses the race for a port), starts /usr/bin/pebble with
// the PEBBLE_* variables, waits until the directory answers and kills it when
// the object goes away. Pebble keeps its state in memory: every instance is a
// fresh CA.
//
// With PebbleOptions::with_dns, pebble-challtestsrv runs too, as a mock DNS
// server answering every A query with 127.0.0.1, and Pebble is started with
// `-dnsserver` pointing at it: with always_valid off its validation authority
// then fetches http://<any name>:<http port>/.well-known/acme-challenge/<token>
// from loopback (pebble_dns_options()).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/acme/acme_client.h"
#include "providers/http/http_client.h"
#include "providers/pki/certificate.h"
#include "tests/support/test_support.h"

extern char** environ;

namespace edgecert::testing {

struct PebbleOptions {
  bool always_valid = true;      // PEBBLE_VA_ALWAYS_VALID
  int nonce_reject_percent = 0;  // PEBBLE_WFE_NONCEREJECT
  int alternate_roots = 0;       // PEBBLE_ALTERNATE_ROOTS
  // kid -> base64url HMAC key; non-empty = EAB required.
  std::map<std::string, std::string> eab_keys;
  // pebble-challtestsrv as Pebble's DNS: every name resolves to 127.0.0.1.
  bool with_dns = false;
};

// Real http-01 validation for any name, from loopback.
inline PebbleOptions pebble_dns_options() {
  PebbleOptions o;
  o.always_valid = false;
  o.with_dns = true;
  return o;
}

inline bool pebble_available() {
  return access("/usr/bin/pebble", X_OK) == 0 && access("/usr/bin/openssl", X_OK) == 0;
}

inline bool pebble_dns_available() {
  return pebble_available() && access("/usr/bin/pebble-challtestsrv", X_OK) == 0;
}

// Whether Pebble must be present: EDGECERT_REQUIRE_PEBBLE=1 (CI sets it), so
// a machine without it fails the Pebble tests instead of passing them empty.
inline bool pebble_required() {
  const char* v = std::getenv("EDGECERT_REQUIRE_PEBBLE");
  return v && std::string(v) == "1";
}

// Whether PebbleProcess(o) can run here: `if (!can_run_pebble(o)) return;`.
// When it cannot, the test is skipped with a warning, or fails (FAIL ends the
// test case) when pebble_required().
inline bool can_run_pebble(const PebbleOptions& o = {}) {
  if (o.with_dns ? pebble_dns_available() : pebble_available()) return true;
  const char* what = o.with_dns ? "pebble / pebble-challtestsrv" : "pebble";
  if (pebble_required()) FAIL(what << " not installed and EDGECERT_REQUIRE_PEBBLE=1");
  WARN(what << " not installed: skipped");
  return false;
}

// A loopback TCP port that was free a moment ago.
inline int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Whether something accepts TCP connections on loopback `port`.
inline bool loopback_port_listens(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

class PebbleProcess {
 public:
  explicit PebbleProcess(const PebbleOptions& o) {
    make_tls();
    for (int attempt = 0; attempt < 3 && !ready_; ++attempt) start(o);
    if (!ready_) stop();  // the destructor does not run when this throws
    REQUIRE(ready_);
  }
  ~PebbleProcess() { stop(); }
  PebbleProcess(const PebbleProcess&) = delete;
  PebbleProcess& operator=(const PebbleProcess&) = delete;

  std::string directory_url() const {
    return "https://localhost:" + std::to_string(port_) + "/dir";
  }
  std::string management_url() const { return "https://localhost:" + std::to_string(mgmt_port_); }
  std::string ca_bundle() const { return dir_.file("tlsca.pem"); }
  // Where Pebble fetches http-01 challenges.
  int http_port() const { return http_port_; }
  std::string log() const {
    auto r = run_command("cat " + dir_.file("pebble.log"));
    return r.out;
  }

  // GET `path` ("/roots/0", "/intermediates/0") on the management API: the
  // body of its 200 answer.
  std::string management_get(const std::string& path) const {
    auto r = management_request(path);
    INFO(management_url() + path + ": " + r.body);
    REQUIRE(r.status == 200);
    return r.body;
  }

  // The management API's /cert-status-by-serial answer for `cert` ("Valid" /
  // "Revoked", with the reason).
  std::string cert_status(const pki::Certificate& cert) const {
    std::string serial = cert.serial_hex();
    for (auto& ch : serial) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    while (serial.size() > 1 && serial[0] == '0') serial.erase(0, 1);
    auto r = management_request("/cert-status-by-serial/" + serial);
    INFO(r.body);
    CHECK(r.status == 200);
    return r.body;
  }

  // Stops Pebble (and its DNS server); the object stays for log().
  void stop() {
    stop_child(pid_);
    stop_child(dns_pid_);
  }

 private:
  http::Response management_request(const std::string& path) const {
    http::ClientOptions co = acme::acme_client_options();
    co.ca_bundle = ca_bundle();
    auto t = http::make_curl_transport(std::move(co), default_env());
    REQUIRE(t);
    auto r = (*t)->perform(http::Request{.method = "GET", .target = management_url() + path});
    REQUIRE(r);
    return std::move(*r);
  }

  // SIGTERM, then SIGKILL after 3 s.
  static void stop_child(pid_t& pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 300; ++i) {
      if (waitpid(pid, &st, WNOHANG) == pid) {
        pid = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    pid = 0;
  }

  // Whether `pid` has exited (then reaped, and set to 0).
  static bool exited(pid_t& pid) {
    int st = 0;
    if (pid <= 0 || waitpid(pid, &st, WNOHANG) != pid) return false;
    pid = 0;
    return true;
  }

  // Starts args[0] with `env`, stdout and stderr appended to `log`.
  static pid_t spawn(std::vector<std::string> args, std::vector<std::string> env,
                     const std::string& log) {
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    return pid;
  }

  void make_tls() {
    dir_.write("san.ext",
               "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    std::string d = dir_.path();
    std::string cmd =
        "cd '" + d +
        "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
        "-subj '/CN=pebble test TLS CA' -keyout tlsca.key -out tlsca.pem 2>/dev/null && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
        "-keyout localhost.key -out localhost.csr 2>/dev/null && "
        "openssl x509 -req -in localhost.csr -CA tlsca.pem -CAkey tlsca.key -CAcreateserial "
        "-days 30 -extfile san.ext -out localhost.pem 2>/dev/null && echo ok";
    auto r = run_command(cmd);
    INFO(r.out);
    REQUIRE(r.status == 0);
  }

  void start(const PebbleOptions& o) {
    stop();  // what an earlier attempt left running
    port_ = free_loopback_port();
    mgmt_port_ = free_loopback_port();
    http_port_ = free_loopback_port();
    const std::string eab = nlohmann::json(o.eab_keys).dump();  // {"kid": "key", ...}
    std::string cfg =
        "{\"pebble\":{\"listenAddress\":\"127.0.0.1:" + std::to_string(port_) +
        "\",\"managementListenAddress\":\"127.0.0.1:" + std::to_string(mgmt_port_) +
        "\",\"certificate\":\"" + dir_.file("localhost.pem") + "\",\"privateKey\":\"" +
        dir_.file("localhost.key") + "\",\"httpPort\":" + std::to_string(http_port_) +
        ",\"tlsPort\":" + std::to_string(free_loopback_port()) +
        ",\"ocspResponderURL\":\"\",\"certificateValidityPeriod\":7776000" +
        ",\"externalAccountBindingRequired\":" + (o.eab_keys.empty() ? "false" : "true") +
        ",\"externalAccountMACKeys\":" + eab + "}}";
    std::string cfg_path = dir_.write("pebble.json", cfg);

    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string s(*e);
      if (s.rfind("PEBBLE_", 0) != 0) env.push_back(s);
    }
    std::vector<std::string> args = {"/usr/bin/pebble", "-config", cfg_path};
    if (o.with_dns) {
      // Only A records (IPv4 loopback), where the nodes' listeners are.
      const std::string dns = "127.0.0.1:" + std::to_string(free_loopback_port());
      dns_pid_ = spawn({"/usr/bin/pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6",
                        "", "-dns01", dns, "-http01", "", "-https01", "", "-tlsalpn01", "",
                        "-management", "127.0.0.1:" + std::to_string(free_loopback_port())},
                       env, dir_.file("challtestsrv.log"));
      args.insert(args.end(), {"-dnsserver", dns});
    }
    env.push_back(std::string("PEBBLE_VA_ALWAYS_VALID=") + (o.always_valid ? "1" : "0"));
    env.push_back("PEBBLE_VA_NOSLEEP=1");
    env.push_back("PEBBLE_WFE_NONCEREJECT=" + std::to_string(o.nonce_reject_percent));
    env.push_back("PEBBLE_ALTERNATE_ROOTS=" + std::to_string(o.alternate_roots));
    env.push_back("PEBBLE_AUTHZREUSE=0");
    pid_ = spawn(args, env, dir_.file("pebble.log"));

    http::ClientOptions co = acme::acme_client_options();
    co.ca_bundle = ca_bundle();
    co.connect_timeout = std::chrono::seconds(1);
    co.request_timeout = std::chrono::seconds(2);
    auto t = http::make_curl_transport(std::move(co), default_env());
    REQUIRE(t);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      // A child that died (a port taken in the meantime?): retry on new ports.
      if (exited(pid_) || exited(dns_pid_)) return;
      auto r = (*t)->perform(http::Request{.method = "GET", .target = directory_url()});
      if (r && r->status == 200) {
        ready_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
  }

  TempDir dir_;
  pid_t pid_ = 0;
  pid_t dns_pid_ = 0;
  int port_ = 0, mgmt_port_ = 0, http_port_ = 0;
  bool ready_ = false;
};

}  // namespace edgecert::testing
