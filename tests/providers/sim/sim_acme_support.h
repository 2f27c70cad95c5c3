// Helpers for the node ACME service tests (sim:// in-process and https://
// over edgecert-sim): settings, CSR requests, key fragments, pending chains.
#pragma once

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "providers/base/env.h"
#include "providers/node/node.h"
#include "providers/pki/certificate.h"

namespace edgecert::testing {

// Manual-mode ACME settings for the provider "pebble" at `directory`, the
// terms accepted.
inline node::AcmeSettings pebble_acme_settings(const std::string& directory) {
  node::AcmeSettings a;
  a.provider_name = "pebble";
  a.provider_directory = directory;
  a.email = "pki@example.com";
  a.terms_accepted = true;
  a.mode = spec::AcmeMode::kManual;
  return a;
}

// An EC P-256 CSR request (fast) for `cn` plus `sans`.
inline node::CsrRequest acme_csr_request(const std::string& cn,
                                         const std::vector<std::string>& sans = {}) {
  node::CsrRequest r;
  r.common_name = cn;
  r.dns_names = sans;
  r.key_algorithm = spec::KeyAlgorithm::kEcdsa;
  r.key_size = 256;
  r.subject.organization = "Example";
  return r;
}

// The second base64 line of every "PRIVATE KEY" block in `text` (JSON-escaped
// newlines allowed): pure key material, to search for in anything public.
inline std::vector<std::string> private_key_fragments(std::string text) {
  for (size_t p; (p = text.find("\\n")) != std::string::npos;) text.replace(p, 2, "\n");
  const std::string begin = "-----BEGIN PRIVATE KEY-----\n";
  std::vector<std::string> out;
  for (size_t pos = 0; (pos = text.find(begin, pos)) != std::string::npos;) {
    size_t l1 = text.find('\n', pos + begin.size());
    size_t l2 = text.find('\n', l1 + 1);
    REQUIRE(l2 != std::string::npos);
    out.push_back(text.substr(l1 + 1, l2 - l1 - 1));
    pos = l2;
  }
  return out;
}

// The chain in NodeState::acme_status.pending_certificate_pem.
inline std::vector<pki::Certificate> pending_chain(const node::NodeState& s) {
  REQUIRE(s.acme_status.pending_certificate_pem.has_value());
  auto c = pki::Certificate::parse_all(*s.acme_status.pending_certificate_pem, "pending");
  REQUIRE(c);
  REQUIRE_FALSE(c->empty());
  return std::move(*c);
}

}  // namespace edgecert::testing
