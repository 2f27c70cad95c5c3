// query_ocsp against a real `openssl ocsp` responder process: a CA made with
// `openssl ca` (its index.txt is what the responder answers from), the
// responder on a free loopback port, signing as a delegated OCSP signer, as
// the CA itself, or with keys the CA never vouched for.
#include "providers/revocation/ocsp.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/base/time.h"
#include "providers/pki/certificate.h"
#include "tests/providers/acme/pebble_process.h"  // free_loopback_port
#include "tests/support/local_http_server.h"
#include "tests/support/test_support.h"

namespace edgecert::revocation {
namespace {

using testing::run_command;
using testing::TempDir;

// A CA kept by `openssl ca` in a TempDir, with three leaf certificates:
// good (issued), revoked (issued, then revoked keyCompromise) and unknown
// (signed by the CA key outside `openssl ca`, so not in index.txt); a
// delegated OCSP signer; a certificate without the OCSPSigning EKU; and an
// unrelated self-signed CA.
struct OcspCa {
  TempDir dir;

  OcspCa() {
    dir.write("openssl.cnf", fmt::format(R"([ ca ]
default_ca = test_ca
[ test_ca ]
dir = {0}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
default_days = 30
unique_subject = no
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
[ ocsp_signer ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = OCSPSigning
)",
                                         dir.path()));
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    const std::string ca = "openssl ca -batch -config openssl.cnf -cert ca.pem -keyfile ca.key";
    std::string script = fmt::format(
        "set -e; cd '{0}'; mkdir newcerts; : > index.txt; echo 1000 > serial\n"
        "openssl req -x509 -config openssl.cnf -extensions v3_ca {1} -subj '/CN=OCSP Test CA' "
        "-keyout ca.key -out ca.pem -days 30\n"
        "openssl req -x509 -config openssl.cnf -extensions v3_ca {1} -subj '/CN=OCSP Test CA' "
        "-keyout other.key -out other.pem -days 30\n"
        "for n in good revoked unknown signer plain; do\n"
        "  openssl req -new -config openssl.cnf {1} -subj /CN=$n.example -keyout $n.key -out "
        "$n.csr\n"
        "done\n"
        "{2} -extensions leaf -in good.csr -out good.pem\n"
        "{2} -extensions leaf -in revoked.csr -out revoked.pem\n"
        "{2} -extensions leaf -in plain.csr -out plain.pem\n"
        "{2} -extensions ocsp_signer -in signer.csr -out signer.pem\n"
        "{2} -revoke revoked.pem -crl_reason keyCompromise\n"
        "openssl x509 -req -in unknown.csr -CA ca.pem -CAkey ca.key -set_serial 0x7777 "
        "-extfile openssl.cnf -extensions leaf -days 30 -out unknown.pem\n",
        dir.path(), key, ca);
    auto r = run_command("bash -c " + quote(script) + " 2>&1");
    INFO(r.out);
    REQUIRE(r.status == 0);
  }

  static std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  pki::Certificate cert(const std::string& name) const {
    auto text = run_command("cat '" + dir.file(name + ".pem") + "'");
    auto c = pki::Certificate::parse_one(text.out, name + ".pem");
    REQUIRE(c);
    return std::move(*c);
  }
  std::string index() const { return run_command("cat '" + dir.file("index.txt") + "'").out; }
};

// `openssl ocsp` answering from the CA's index.txt on a free loopback port,
// signing with `signer`.pem/.key. Killed on destruction.
class Responder {
 public:
  Responder(const OcspCa& ca, const std::string& signer) {
    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) start(ca, signer);
    REQUIRE(pid_ > 0);
  }
  ~Responder() { stop(); }
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  std::string url() const { return fmt::format("http://127.0.0.1:{}/", port_); }
  std::string log() const { return run_command("cat '" + log_ + "'").out; }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    // The responder is not our child (the shell that started it exited), so
    // wait until it is gone rather than reap it.
    for (int i = 0; i < 500 && kill(pid_, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (kill(pid_, 0) == 0) kill(pid_, SIGKILL);
    pid_ = 0;
  }

 private:
  void start(const OcspCa& ca, const std::string& signer) {
    port_ = testing::free_loopback_port();
    log_ = ca.dir.file("responder-" + std::to_string(port_) + ".log");
    auto r = run_command(fmt::format(
        "cd '{}' && openssl ocsp -index index.txt -CA ca.pem -rsigner {}.pem -rkey {}.key "
        "-port {} -nmin 10 -ignore_err > '{}' 2>&1 & echo $!",
        ca.dir.path(), signer, signer, port_, log_));
    REQUIRE(r.status == 0);
    pid_ = std::stoi(r.out);
    // Ready when it accepts connections; gone when the port was taken.
    http::ClientOptions o;
    o.allow_loopback_http = true;
    o.connect_timeout = std::chrono::seconds(1);
    o.request_timeout = std::chrono::seconds(2);
    auto t = http::make_curl_transport(std::move(o), default_env());
    REQUIRE(t);
    for (int i = 0; i < 500; ++i) {
      if (kill(pid_, 0) != 0) break;
      auto probe = (*t)->perform(http::Request{.method = "GET", .target = url() + "ready"});
      if (probe || probe.error().message.rfind("cannot connect", 0) != 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
  }

  int port_ = 0;
  pid_t pid_ = 0;
  std::string log_;
};

// The openssl CLI makes the CA and runs the responder: without it a test
// is skipped with a warning.
bool openssl_missing() {
  if (access("/usr/bin/openssl", X_OK) == 0) return false;
  WARN("openssl not installed: skipped");
  return true;
}

// The CA, its certificate as the issuer, a transport and the time of asking.
struct Fixture {
  OcspCa ca;
  pki::Certificate issuer = ca.cert("ca");
  std::unique_ptr<http::Transport> transport = make_transport();
  TimePoint now = Clock::now();

  static std::unique_ptr<http::Transport> make_transport() {
    http::ClientOptions o;
    o.allow_loopback_http = true;
    o.connect_timeout = std::chrono::seconds(2);
    o.request_timeout = std::chrono::seconds(10);
    o.max_response_bytes = 1u << 20;
    auto t = http::make_curl_transport(std::move(o), default_env());
    REQUIRE(t);
    return std::move(*t);
  }

  // Asks `url` about the CA's certificate `name` (good, revoked, unknown).
  Result<OcspAnswer> ask(const std::string& name, const std::string& url) {
    return ask_at(name, url, now);
  }
  Result<OcspAnswer> ask_at(const std::string& name, const std::string& url, TimePoint at) {
    return query_ocsp(ca.cert(name), issuer, url, *transport, at);
  }
};

void check_refused(const Result<OcspAnswer>& r, ErrorCode code, const std::string& prefix) {
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == code);
  CHECK(r.error().message.rfind(prefix, 0) == 0);
}

TEST_CASE("OCSP: good, revoked with reason, unknown from an openssl responder",
          "[revocation][ocsp]") {
  if (openssl_missing()) return;
  Fixture fx;
  INFO(fx.ca.index());

  // The delegated signer (OCSPSigning EKU, issued by the CA), and the CA itself.
  for (const std::string signer : {"signer", "ca"}) {
    INFO("responder signs with " << signer);
    Responder responder(fx.ca, signer);
    INFO(responder.log());

    auto good = fx.ask("good", responder.url());
    REQUIRE(good);
    CHECK(good->status == OcspStatus::kGood);
    CHECK(std::string(to_string(good->status)) == "good");
    CHECK_FALSE(good->revoked_at);
    CHECK(good->reason.empty());
    CHECK(good->responder_url == responder.url());
    CHECK(good->this_update <= fx.now + std::chrono::minutes(5));
    REQUIRE(good->next_update);  // -nmin 10
    CHECK(*good->next_update > fx.now);

    auto revoked = fx.ask("revoked", responder.url());
    REQUIRE(revoked);
    CHECK(revoked->status == OcspStatus::kRevoked);
    CHECK(revoked->reason == "keyCompromise");
    REQUIRE(revoked->revoked_at);
    // The revocation time the CA wrote into index.txt ("R\t<exp>\t<rev>,keyCompromise\t...").
    const std::string index = fx.ca.index();
    const auto line = index.find("\t" + fx.ca.cert("revoked").serial_hex() + "\t");
    REQUIRE(line != std::string::npos);
    const auto row = index.rfind("R\t", line);
    REQUIRE(row != std::string::npos);
    const auto rev_field = index.find('\t', row + 2) + 1;
    CHECK(format_openssl_index_time(*revoked->revoked_at) ==
          index.substr(rev_field, index.find(',', rev_field) - rev_field));

    auto unknown = fx.ask("unknown", responder.url());
    REQUIRE(unknown);
    CHECK(unknown->status == OcspStatus::kUnknown);
  }
}

TEST_CASE("OCSP: an answer the issuer did not authorise is refused", "[revocation][ocsp]") {
  if (openssl_missing()) return;
  Fixture fx;
  // "other": an unrelated key under the same CA name; "plain": a certificate
  // the CA issued, but not for OCSP signing.
  for (const std::string signer : {"other", "plain"}) {
    INFO("responder signs with " << signer);
    Responder responder(fx.ca, signer);
    check_refused(
        fx.ask("good", responder.url()), ErrorCode::kInvalidArgument,
        responder.url() + ": the OCSP answer's signature does not verify against CN=OCSP Test CA");
  }
}

TEST_CASE("OCSP: freshness is judged on the caller's clock", "[revocation][ocsp]") {
  if (openssl_missing()) return;
  Fixture fx;
  // Signed by the CA itself: its certificate is trusted as given, so the
  // verification time does not reach the freshly issued responder
  // certificate (not valid half an hour ago).
  Responder responder(fx.ca, "ca");

  // An hour later the answer (nextUpdate in 10 minutes) is stale; half an
  // hour earlier it is not valid yet.
  check_refused(fx.ask_at("good", responder.url(), fx.now + std::chrono::hours(1)),
                ErrorCode::kInvalidArgument, responder.url() + ": stale OCSP answer: nextUpdate ");
  check_refused(fx.ask_at("good", responder.url(), fx.now - std::chrono::minutes(30)),
                ErrorCode::kInvalidArgument,
                responder.url() + ": the OCSP answer is not yet valid: thisUpdate ");
}

TEST_CASE("OCSP: unreachable responder, HTTP error, not an OCSP answer", "[revocation][ocsp]") {
  if (openssl_missing()) return;
  Fixture fx;
  const std::string dead = fmt::format("http://127.0.0.1:{}/", testing::free_loopback_port());
  check_refused(fx.ask("good", dead), ErrorCode::kUnavailable, dead + ": cannot connect");

  testing::LocalHttpServer http;
  std::string content_type;
  std::string request_body;
  http.server().Post("/error",
                     [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  http.server().Post("/html", [&](const httplib::Request& req, httplib::Response& res) {
    content_type = req.get_header_value("Content-Type");
    request_body = req.body;
    res.set_content("<html>hello</html>", "text/html");
  });
  http.start();
  check_refused(fx.ask("good", http.url("/error")), ErrorCode::kUnavailable,
                http.url("/error") + ": HTTP 500 from the OCSP responder");
  check_refused(fx.ask("good", http.url("/html")), ErrorCode::kInvalidArgument,
                http.url("/html") + ": not an OCSP response");
  CHECK(content_type == "application/ocsp-request");

  // What was sent, as openssl reads it: a SHA-256 CertID for the serial, and a nonce.
  std::ofstream(fx.ca.dir.file("sent.req"), std::ios::binary) << request_body;
  auto text =
      run_command("openssl ocsp -reqin '" + fx.ca.dir.file("sent.req") + "' -req_text 2>&1");
  INFO(text.out);
  REQUIRE(text.status == 0);
  CHECK(text.out.find("Hash Algorithm: sha256") != std::string::npos);
  CHECK(text.out.find("Serial Number: " + fx.ca.cert("good").serial_hex()) != std::string::npos);
  CHECK(text.out.find("OCSP Nonce") != std::string::npos);
}

// The DER answer `openssl ocsp` gives, from the CA's index, to a request for
// `cert` made by `openssl ocsp` itself (SHA-256 CertID; with a nonce of its
// own unless `no_nonce`).
std::string recorded_answer(const OcspCa& ca, const std::string& cert, bool no_nonce) {
  auto r = run_command(fmt::format(
      "cd '{0}' && openssl ocsp -issuer ca.pem -sha256 -cert {1}.pem {2} -reqout {1}.req "
      "2>&1 && openssl ocsp -index index.txt -CA ca.pem -rsigner signer.pem -rkey signer.key "
      "-reqin {1}.req -respout {1}.resp -nmin 10 2>&1",
      ca.dir.path(), cert, no_nonce ? "-no_nonce" : ""));
  INFO(r.out);
  REQUIRE(r.status == 0);
  std::ifstream in(ca.dir.file(cert + ".resp"), std::ios::binary);
  std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE_FALSE(der.empty());
  return der;
}

TEST_CASE("OCSP: recorded answers (nonce, another certificate, responder status)",
          "[revocation][ocsp]") {
  if (openssl_missing()) return;
  Fixture fx;
  const std::string with_nonce = recorded_answer(fx.ca, "good", false);
  const std::string without_nonce = recorded_answer(fx.ca, "good", true);
  auto serve = [](const std::string& der) {
    return [der](const httplib::Request&, httplib::Response& res) {
      res.set_content(der, "application/ocsp-response");
    };
  };
  testing::LocalHttpServer http;
  http.server().Post("/replay", serve(with_nonce));
  http.server().Post("/pre-produced", serve(without_nonce));
  // OCSPResponse { responseStatus unauthorized(6) }
  http.server().Post("/unauthorized", serve(std::string("\x30\x03\x0a\x01\x06", 5)));
  http.start();

  // An answer to another request (its nonce, not ours): a replay.
  check_refused(fx.ask("good", http.url("/replay")), ErrorCode::kInvalidArgument,
                http.url("/replay") + ": the OCSP answer carries another request's nonce");

  // Without a nonce (pre-produced answers, RFC 5019): accepted.
  auto pre = fx.ask("good", http.url("/pre-produced"));
  REQUIRE(pre);
  CHECK(pre->status == OcspStatus::kGood);

  // The same answer asked about another certificate.
  check_refused(fx.ask("revoked", http.url("/pre-produced")), ErrorCode::kInvalidArgument,
                http.url("/pre-produced") + ": the OCSP answer has no status for serial " +
                    fx.ca.cert("revoked").serial_hex());

  check_refused(fx.ask("good", http.url("/unauthorized")), ErrorCode::kInvalidArgument,
                http.url("/unauthorized") + ": the OCSP responder answered \"unauthorized\"");
}

}  // namespace
}  // namespace edgecert::revocation
