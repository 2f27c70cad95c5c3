// Shared helpers of the pki tests: running the `openssl` command line in a
// TempDir (the independent oracle the parser is cross-checked against) and a
// small in-process CA built with edgecert's own signer.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "providers/pki/certificate.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "tests/support/test_support.h"

namespace edgecert::pki::testing {

using edgecert::testing::TempDir;

// 2027-01-01T00:00:00Z, MemoryEnv's default clock.
inline TimePoint test_now() {
  return TimePoint(std::chrono::seconds(1798761600));
}
inline constexpr std::chrono::hours kDay{24};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `command` inside `dir`; stderr is discarded. REQUIREs success.
inline std::string sh(const TempDir& dir, const std::string& command) {
  auto r =
      edgecert::testing::run_command("cd '" + dir.path() + "' && (" + command + ") 2>/dev/null");
  INFO("command: " << command);
  REQUIRE(r.status == 0);
  return r.out;
}

// "sha256 Fingerprint=AB:CD" -> "AB:CD"; strips the trailing newline.
inline std::string after_equals(const std::string& line) {
  std::string s = line.substr(line.find('=') + 1);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

inline std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Parses `openssl x509 -noout -ext subjectAltName` output into its entries
// ("DNS:a", "IP Address:1.2.3.4").
inline std::vector<std::string> openssl_sans(const std::string& output) {
  std::vector<std::string> out;
  auto nl = output.find('\n');
  if (nl == std::string::npos) return out;
  std::string list = trim(output.substr(nl + 1));
  size_t pos = 0;
  while (!list.empty() && pos <= list.size()) {
    size_t comma = list.find(", ", pos);
    out.push_back(list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 2;
  }
  return out;
}

template <class T>
T must(Result<T> r) {
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.has_value());
  return std::move(*r);
}

// Root -> intermediate -> leaf, all ECDSA P-256 (fast), issued by edgecert.
struct TestPki {
  PrivateKey root_key = must(PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  PrivateKey inter_key = must(PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  PrivateKey leaf_key = must(PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256));
  Certificate root;
  Certificate inter;
  Certificate leaf;

  TestPki()
      : root(must(create_self_signed_ca(root_key, ca_options("Test Root CA", "01", 3650)))),
        inter(must(create_intermediate_ca(inter_key, ca_options("Test Issuing CA", "02", 1825),
                                          root, root_key))),
        leaf(issue(leaf_key, {"edge1.example.com", "cluster.example.com"}, "1001")) {}

  static CaOptions ca_options(const std::string& cn, const std::string& serial, int days) {
    CaOptions o;
    o.common_name = cn;
    o.subject.organization = "Example Ltd";
    o.subject.country = "GB";
    o.not_before = test_now() - 10 * kDay;
    o.not_after = test_now() + days * kDay;
    o.serial_hex = serial;
    return o;
  }

  // A leaf for `key` with the given DNS names (first = CN), signed by `inter`.
  Certificate issue(const PrivateKey& key, const std::vector<std::string>& names,
                    const std::string& serial, IssueOptions options = default_issue()) {
    CsrOptions csr;
    csr.common_name = names.empty() ? std::string() : names.front();
    csr.dns_names = names;
    csr.subject.organization = "Example Ltd";
    auto req = must(CertificateRequest::create(key, csr));
    options.serial_hex = serial;
    return must(sign_csr(req, inter, inter_key, options));
  }

  static IssueOptions default_issue() {
    IssueOptions o;
    o.not_before = test_now() - kDay;
    o.not_after = test_now() + 90 * kDay;
    return o;
  }
};

}  // namespace edgecert::pki::testing
