// A CA run by the real `openssl ca` in a TempDir: the independent producer
// of CRLs the parser and the verifier are checked against (revocations with
// reasons, `-gencrl` with a cRLNumber and fixed thisUpdate/nextUpdate).
#pragma once

#include <string>

#include "tests/providers/pki/pki_fixtures.h"

namespace edgecert::pki::testing {

class OpensslCaDir {
 public:
  // `extra_ca_ext` adds lines to the CA certificate's extension section
  // (e.g. a keyUsage without cRLSign).
  explicit OpensslCaDir(const std::string& cn = "OpenSSL Test CA",
                        const std::string& key_usage = "critical,keyCertSign,cRLSign") {
    dir_.write("ca.cnf", config(cn, key_usage));
    dir_.write("index.txt", "");
    dir_.write("serial", "1000\n");
    dir_.write("crlnumber", "0A\n");
    sh(dir_, "mkdir -p newcerts");
    sh(dir_,
       "openssl req -x509 -new -config ca.cnf -extensions v3_ca -newkey ec -pkeyopt "
       "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 3650");
  }

  const TempDir& dir() const { return dir_; }
  std::string ca_pem() const { return read_text(dir_.file("ca.pem")); }

  // Issues a leaf for `cn`; returns its serial (upper-case hex).
  std::string issue(const std::string& cn) {
    std::string base = "leaf" + std::to_string(++leaves_);
    sh(dir_, "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + base +
                 ".key -subj '/CN=" + cn + "' -out " + base + ".csr");
    sh(dir_, "openssl ca -batch -config ca.cnf -notext -in " + base + ".csr -out " + base + ".pem");
    return after_equals(sh(dir_, "openssl x509 -noout -serial -in " + base + ".pem"));
  }

  // Revokes leaf number `n` (1-based, in issue order) with an optional reason.
  void revoke(int n, const std::string& reason = "") {
    sh(dir_, "openssl ca -config ca.cnf -revoke leaf" + std::to_string(n) + ".pem" +
                 (reason.empty() ? std::string() : " -crl_reason " + reason));
  }

  // `openssl ca -gencrl` with times as YYYYMMDDHHMMSSZ; returns the PEM.
  std::string gencrl(const std::string& last_update, const std::string& next_update) {
    sh(dir_, "openssl ca -config ca.cnf -gencrl -crlexts crl_ext -crl_lastupdate " + last_update +
                 " -crl_nextupdate " + next_update + " -out crl.pem");
    return read_text(dir_.file("crl.pem"));
  }

 private:
  static std::string config(const std::string& cn, const std::string& key_usage) {
    return "[ ca ]\ndefault_ca = CA_default\n"
           "[ CA_default ]\ndir = .\ndatabase = ./index.txt\nnew_certs_dir = ./newcerts\n"
           "certificate = ./ca.pem\nprivate_key = ./ca.key\nserial = ./serial\n"
           "crlnumber = ./crlnumber\ndefault_md = sha256\ndefault_days = 30\n"
           "default_crl_days = 7\npolicy = policy_any\nunique_subject = no\n"
           "[ policy_any ]\ncommonName = supplied\n"
           "[ req ]\ndistinguished_name = dn\nprompt = no\n"
           "[ dn ]\nO = Example Ltd\nCN = " +
           cn + "\n[ v3_ca ]\nbasicConstraints = critical,CA:true\nkeyUsage = " + key_usage +
           "\nsubjectKeyIdentifier = hash\n"
           "[ crl_ext ]\nauthorityKeyIdentifier = keyid:always\n";
  }

  TempDir dir_;
  int leaves_ = 0;
};

}  // namespace edgecert::pki::testing
