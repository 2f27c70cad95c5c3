// Crl: strict parsing (offsets for trailing bytes, concatenated DERs,
// truncation), reasons, delta CRLs, and the serial index, checked against
// CRLs made by the real `openssl ca -gencrl` as well as by Crl::create.
#include <catch2/catch.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "providers/pki/crl.h"
#include "providers/pki/jws.h"
#include "tests/providers/pki/openssl_ca_dir.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;

namespace {

CrlOptions base_options() {
  CrlOptions o;
  o.last_update = test_now() - kDay;
  o.next_update = test_now() + 7 * kDay;
  return o;
}

Crl make_crl(const TestPki& p, CrlOptions o = base_options()) {
  return must(Crl::create(p.inter, p.inter_key, o));
}

std::string error_of(std::string_view data, const std::string& source = "crl.der") {
  auto r = Crl::parse_all(data, source);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  return r.error().message;
}

// A PEM "X509 CRL" block around arbitrary bytes.
std::string pem_block(const std::string& der) {
  std::string b64 = base64url_encode(der);  // to standard base64, padded
  std::replace(b64.begin(), b64.end(), '-', '+');
  std::replace(b64.begin(), b64.end(), '_', '/');
  while (b64.size() % 4) b64 += '=';
  std::string out = "-----BEGIN X509 CRL-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END X509 CRL-----\n";
}

}  // namespace

TEST_CASE("crl: DER with bytes after the CRL is refused with their count and offset",
          "[pki][crl]") {
  TestPki p;
  std::string der = make_crl(p).to_der();
  CHECK(must(Crl::parse_all(der, "crl.der")).size() == 1);

  CHECK(
      error_of(der + "garbage") ==
      fmt::format("crl.der: 7 bytes of trailing data after the DER CRL at offset {}", der.size()));
  // Two DER CRLs back to back: the second is trailing data, said so.
  CrlOptions o = base_options();
  o.number = 2;
  std::string second = make_crl(p, o).to_der();
  CHECK(error_of(der + second) ==
        fmt::format("crl.der: {} bytes of trailing data after the DER CRL at offset {} (another "
                    "DER object: a DER file holds one CRL; use PEM for several)",
                    second.size(), der.size()));
  // One stray newline (a file saved by an editor) is trailing data too.
  CHECK(
      error_of(der + "\n") ==
      fmt::format("crl.der: 1 bytes of trailing data after the DER CRL at offset {}", der.size()));
}

TEST_CASE("crl: truncated DER is refused with the offset where the data ends", "[pki][crl]") {
  TestPki p;
  std::string der = make_crl(p).to_der();
  for (size_t cut : {size_t{1}, size_t{3}, der.size() / 2, der.size() - 1}) {
    INFO("cut at " << cut);
    std::string msg = error_of(der.substr(0, cut));
    CHECK(msg.rfind(fmt::format("crl.der: truncated DER at offset {}", cut), 0) == 0);
  }
  CHECK(error_of(der.substr(0, der.size() / 2)) ==
        fmt::format("crl.der: truncated DER at offset {}: the CRL's SEQUENCE announces {} "
                    "bytes, the data holds {}",
                    der.size() / 2, der.size(), der.size() / 2));
  CHECK(error_of("") == "crl.der: empty input");
  // BER's indefinite length is not DER.
  CHECK(error_of(std::string("\x30\x80\x00\x00", 4)) ==
        "crl.der: indefinite length (BER) at offset 1: a CRL must be DER");
  // A well-formed DER object that is not a CRL (a certificate).
  CHECK(error_of(p.root.to_der())
            .rfind(fmt::format(
                       "crl.der: not a CRL (a DER SEQUENCE of {} bytes that does not decode as "
                       "a CRL)",
                       p.root.to_der().size()),
                   0) == 0);
  CHECK(error_of("hello") ==
        "crl.der: not a CRL (neither PEM nor DER: the data starts with byte 0x68 at offset 0, "
        "not a DER SEQUENCE)");
}

TEST_CASE("crl: PEM blocks are held to the same strictness, per block", "[pki][crl]") {
  TestPki p;
  Crl crl = make_crl(p);
  std::string der = crl.to_der();
  // The base64 hides trailing bytes or a cut DER; the block index says which.
  std::string text = crl.to_pem() + pem_block(der + "xx");
  CHECK(error_of(text, "crls.pem") ==
        fmt::format("crls.pem: block 1: 2 bytes of trailing data after the DER CRL at offset {}",
                    der.size()));
  CHECK(error_of(pem_block(der.substr(0, 40)), "crls.pem")
            .rfind("crls.pem: block 0: truncated DER at offset 40", 0) == 0);
  CHECK(error_of(crl.to_pem() + p.root.to_pem(), "crls.pem") ==
        "crls.pem: block 1: not a CRL: PEM block is 'CERTIFICATE'");
  // Comments around blocks are fine (as `openssl crl` accepts them).
  CHECK(must(Crl::parse_all("# issued today\n" + crl.to_pem() + "\nend\n", "c.pem")).size() == 1);
}

TEST_CASE("crl: reasons, entry count, numbers and delta CRLs from Crl::create", "[pki][crl]") {
  TestPki p;
  CrlOptions o = base_options();
  o.number = 12;
  o.revoked = {{"1001", test_now() - kDay, "keyCompromise"},
               {"0A0B", test_now() - 2 * kDay, ""},
               {"7F", test_now() - 3 * kDay, "certificateHold"}};
  Crl full = make_crl(p, o);
  CHECK(full.entry_count() == 3);
  CHECK_FALSE(full.is_delta());
  CHECK(full.delta_base_number() == std::nullopt);
  CHECK(full.number() == std::optional<std::string>("0C"));
  auto e = full.find_revoked("1001");
  REQUIRE(e);
  CHECK(e->reason == "keyCompromise");
  CHECK(e->revoked_at == test_now() - kDay);
  CHECK(full.find_revoked("0A0B")->reason.empty());
  CHECK(full.find_revoked("7F")->reason == "certificateHold");

  o.number = 13;
  o.delta_base = 12;
  o.revoked = {{"2002", test_now(), "superseded"}};
  Crl delta = make_crl(p, o);
  CHECK(delta.is_delta());
  CHECK(delta.delta_base_number() == std::optional<std::string>("0C"));
  CHECK(delta.entry_count() == 1);

  // openssl reads the same reasons and the delta indicator.
  TempDir dir;
  dir.write("full.pem", full.to_pem());
  dir.write("delta.pem", delta.to_pem());
  std::string text = sh(dir, "openssl crl -noout -text -in full.pem");
  CHECK(text.find("Key Compromise") != std::string::npos);
  CHECK(text.find("Certificate Hold") != std::string::npos);
  std::string dtext = sh(dir, "openssl crl -noout -text -in delta.pem");
  CHECK(dtext.find("Delta CRL Indicator: critical") != std::string::npos);

  o.revoked = {{"01", test_now(), "noSuchReason"}};
  auto bad = Crl::create(p.inter, p.inter_key, o);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "revoked entry 01: unknown reason 'noSuchReason'");

  CrlOptions open = base_options();
  open.omit_next_update = true;
  CHECK_FALSE(make_crl(p, open).next_update());
}

TEST_CASE("crl: a CRL from the real openssl ca -gencrl: entries, reasons, number, lookup",
          "[pki][crl]") {
  OpensslCaDir ca;
  std::string s1 = ca.issue("edge1.example.com");
  std::string s2 = ca.issue("edge2.example.com");
  std::string s3 = ca.issue("edge3.example.com");
  ca.revoke(1, "keyCompromise");
  ca.revoke(3);
  std::string pem = ca.gencrl("20261231000000Z", "20270107000000Z");
  auto crls = must(Crl::parse_all(pem, "crl.pem"));
  REQUIRE(crls.size() == 1);
  const Crl& crl = crls[0];
  CHECK(crl.issuer() == "CN=OpenSSL Test CA,O=Example Ltd");
  CHECK(crl.number() == std::optional<std::string>("0A"));
  CHECK(crl.last_update() == test_now() - kDay);
  CHECK(crl.next_update() == test_now() + 6 * kDay);
  CHECK(crl.entry_count() == 2);
  REQUIRE(crl.find_revoked(s1));
  CHECK(crl.find_revoked(s1)->reason == "keyCompromise");
  CHECK(crl.find_revoked(s1)->serial_hex == s1);
  REQUIRE(crl.find_revoked(s3));
  CHECK(crl.find_revoked(s3)->reason.empty());
  CHECK_FALSE(crl.find_revoked(s2));
  // The same CRL as DER (openssl's conversion) parses to the same content.
  sh(ca.dir(), "openssl crl -in crl.pem -outform DER -out crl.der");
  auto der = must(Crl::parse_all(read_text(ca.dir().file("crl.der")), "crl.der"));
  CHECK(der[0].to_der() == crl.to_der());
  CHECK(der[0].revoked().size() == 2);
}

TEST_CASE("crl: find_revoked ignores leading zeros and case, never matches a prefix",
          "[pki][crl]") {
  TestPki p;
  CrlOptions o = base_options();
  o.revoked = {{"00FF", test_now(), ""}, {"0100", test_now(), ""}, {"ABCDEF", test_now(), ""}};
  Crl crl = make_crl(p, o);
  CHECK(crl.find_revoked("FF"));
  CHECK(crl.find_revoked("00ff"));
  CHECK(crl.find_revoked("0000FF"));
  CHECK(crl.find_revoked("100"));
  CHECK(crl.find_revoked("ab:cd:ef"));
  CHECK_FALSE(crl.find_revoked("ABCD"));
  CHECK_FALSE(crl.find_revoked("ABCDEF00"));
  CHECK_FALSE(crl.find_revoked("0"));
  CHECK_FALSE(crl.find_revoked(""));
  CHECK_FALSE(crl.find_revoked("not hex"));
  CHECK(crl.find_revoked("ABCDEF")->serial_hex == "ABCDEF");
}

TEST_CASE("crl: the index agrees with a scan of every entry, across copies and threads",
          "[pki][crl]") {
  TestPki p;
  CrlOptions o = base_options();
  // Serials of mixed lengths, added out of order, with duplicates of nothing.
  std::set<std::string> in;
  for (int i = 0; i < 3000; ++i) {
    std::string s = fmt::format(
        "{:X}", (static_cast<unsigned long long>(i) * 2654435761ULL) % 0xFFFFFFFFFFULL + 1);
    if (s.size() % 2) s = "0" + s;
    if (in.insert(s).second) o.revoked.push_back({s, test_now() - kDay, ""});
  }
  Crl crl = make_crl(p, o);
  REQUIRE(crl.entry_count() == in.size());
  std::vector<RevokedEntry> all = crl.revoked();
  std::vector<std::string> absent;
  for (int i = 0; i < 500; ++i) absent.push_back(fmt::format("{:X}", 0xFFFFFFFFFFULL + 7 * i));

  // Eight threads make the first lookups at once on one Crl, and a copy is
  // looked up on its own.
  Crl copy = crl;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const Crl& c = t % 2 ? crl : copy;
      for (size_t i = static_cast<size_t>(t); i < all.size(); i += 8) {
        auto e = c.find_revoked(all[i].serial_hex);
        if (!e || e->serial_hex != all[i].serial_hex) ++wrong;
      }
      for (const std::string& s : absent) {
        if (c.find_revoked(s)) ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(wrong.load() == 0);
}
