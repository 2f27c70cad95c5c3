// unpack_crls: what a distribution point may serve, packed by the real
// `zip` and `gzip` (whatever the file name says), and the hostile inputs:
// garbage in a ZIP, ZIP and GZIP bombs, an HTML page, truncated DER, 20 MB.
#include <catch2/catch.hpp>

#include <fmt/core.h>

#include "providers/revocation/crl_unpack.h"
#include "tests/providers/pki/openssl_ca_dir.h"
#include "tests/providers/pki/pki_fixtures.h"

using namespace edgecert;
using namespace edgecert::pki;
using namespace edgecert::pki::testing;
using revocation::unpack_crls;
using revocation::UnpackedCrl;
using revocation::UnpackLimits;

namespace {

const std::string kUrl = "http://crl.example.com/ca.crl";

Crl make_crl(const TestPki& p, long number, std::vector<RevokedEntry> revoked = {}) {
  CrlOptions o;
  o.last_update = test_now() - kDay;
  o.next_update = test_now() + 7 * kDay;
  o.number = number;
  o.revoked = std::move(revoked);
  return must(Crl::create(p.inter, p.inter_key, o));
}

std::vector<UnpackedCrl> unpack_ok(const std::string& data, const UnpackLimits& limits = {}) {
  auto r = unpack_crls(data, kUrl, limits);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r);
  return std::move(*r);
}

std::string unpack_error(const std::string& data, const UnpackLimits& limits = {}) {
  auto r = unpack_crls(data, kUrl, limits);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  // Every error names the source first.
  CHECK(r.error().message.rfind(kUrl + ": ", 0) == 0);
  return r.error().message;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("unpack: PEM and DER, one CRL or several", "[revocation][unpack]") {
  TestPki p;
  Crl a = make_crl(p, 1, {{"1001", test_now() - kDay, "keyCompromise"}});
  Crl b = make_crl(p, 2);
  auto der = unpack_ok(a.to_der());
  REQUIRE(der.size() == 1);
  CHECK(der[0].format == "DER");
  CHECK(der[0].member.empty());
  CHECK(der[0].crl.find_revoked("1001")->reason == "keyCompromise");
  auto pem = unpack_ok(a.to_pem() + b.to_pem());
  REQUIRE(pem.size() == 2);
  CHECK(pem[0].format == "PEM");
  CHECK(pem[1].crl.number() == std::optional<std::string>("02"));
}

TEST_CASE("unpack: ZIP made by the real zip, whatever the name says", "[revocation][unpack]") {
  TestPki p;
  TempDir dir;
  dir.write("in/a.crl", make_crl(p, 1).to_der());
  dir.write("in/sub/b.pem", make_crl(p, 2).to_pem() + make_crl(p, 3).to_pem());
  // Named .txt on purpose: detection is by content.
  sh(dir, "cd in && zip -q -r ../crls.txt a.crl sub");
  auto out = unpack_ok(read_text(dir.file("crls.txt")));
  REQUIRE(out.size() == 3);
  CHECK(out[0].format == "ZIP/DER");
  CHECK(out[0].member == "a.crl");
  CHECK(out[1].format == "ZIP/PEM");
  CHECK(out[1].member == "sub/b.pem");
  CHECK(out[2].crl.number() == std::optional<std::string>("03"));
}

TEST_CASE("unpack: GZIP made by the real gzip, with and without a stored name",
          "[revocation][unpack]") {
  TestPki p;
  TempDir dir;
  dir.write("ca.crl", make_crl(p, 5).to_der());
  dir.write("ca.pem", make_crl(p, 6).to_pem());
  sh(dir, "gzip -k ca.crl && gzip -n -c ca.pem > ca.pem.gz");
  auto der = unpack_ok(read_text(dir.file("ca.crl.gz")));
  REQUIRE(der.size() == 1);
  CHECK(der[0].format == "GZIP/DER");
  CHECK(der[0].member == "ca.crl");
  CHECK(der[0].crl.number() == std::optional<std::string>("05"));
  auto pem = unpack_ok(read_text(dir.file("ca.pem.gz")));
  REQUIRE(pem.size() == 1);
  CHECK(pem[0].format == "GZIP/PEM");
  CHECK(pem[0].member.empty());
}

TEST_CASE("unpack: an openssl ca -gencrl CRL inside a zip", "[revocation][unpack]") {
  OpensslCaDir ca;
  std::string serial = ca.issue("edge1.example.com");
  ca.revoke(1, "superseded");
  ca.gencrl("20261231000000Z", "20270107000000Z");
  sh(ca.dir(), "zip -q crl.zip crl.pem");
  auto out = unpack_ok(read_text(ca.dir().file("crl.zip")));
  REQUIRE(out.size() == 1);
  CHECK(out[0].format == "ZIP/PEM");
  CHECK(out[0].crl.find_revoked(serial)->reason == "superseded");
}

TEST_CASE("unpack: garbage, HTML, text and truncated DER are errors naming the source",
          "[revocation][unpack]") {
  TestPki p;
  std::string der = make_crl(p, 1).to_der();
  TempDir dir;
  dir.write("good.crl", der);
  std::string junk_bytes;
  for (int i = 0; i < 3000; ++i) junk_bytes.push_back(static_cast<char>((i * 131 + 7) % 251));
  dir.write("junk.crl", junk_bytes);
  sh(dir, "zip -q with-junk.zip good.crl junk.crl");
  std::string junk = unpack_error(read_text(dir.file("with-junk.zip")));
  CHECK(junk == kUrl +
                    ": archive member 'junk.crl': not a CRL (neither PEM nor DER: the data "
                    "starts with byte 0x07 at offset 0, not a DER SEQUENCE)");

  CHECK(unpack_error("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>") ==
        kUrl + ": not a CRL: an HTML page");
  CHECK(unpack_error("\n  <HTML><BODY>Service Unavailable</BODY></HTML>") ==
        kUrl + ": not a CRL: an HTML page");
  CHECK(unpack_error("404 Not Found\r\n") ==
        kUrl + ": not a CRL: text beginning \"404 Not Found\" (neither PEM nor DER)");
  CHECK(unpack_error(p.root.to_pem()) == kUrl + ": block 0: not a CRL: PEM block is 'CERTIFICATE'");
  CHECK(unpack_error("") == kUrl + ": empty file");
  CHECK(starts_with(unpack_error(der.substr(0, der.size() - 10)),
                    fmt::format("{}: truncated DER at offset {}", kUrl, der.size() - 10)));
  CHECK(unpack_error(der + der) ==
        fmt::format("{}: {} bytes of trailing data after the DER CRL at offset {} (another DER "
                    "object: a DER file holds one CRL; use PEM for several)",
                    kUrl, der.size(), der.size()));

  // A truncated DER inside a zip, and a zip cut short.
  dir.write("cut.crl", der.substr(0, 100));
  sh(dir, "zip -q cut.zip cut.crl");
  CHECK(starts_with(unpack_error(read_text(dir.file("cut.zip"))),
                    kUrl + ": archive member 'cut.crl': truncated DER at offset 100"));
  std::string zip = read_text(dir.file("with-junk.zip"));
  CHECK(starts_with(unpack_error(zip.substr(0, zip.size() / 2)), kUrl + ": "));
  // An empty archive (end-of-central-directory only) and a nested one.
  CHECK(unpack_error(std::string("PK\x05\x06", 4) + std::string(18, '\0')) ==
        kUrl + ": the ZIP archive holds no CRL");
  sh(dir, "gzip -k good.crl && zip -q nested.zip good.crl.gz");
  CHECK(unpack_error(read_text(dir.file("nested.zip"))) ==
        kUrl +
            ": archive member 'good.crl.gz': an archive inside the ZIP archive; edgecert (like "
            "the appliance) reads CRL files one archive level deep");
}

TEST_CASE("unpack: bombs and oversized inputs hit a limit, named", "[revocation][unpack]") {
  TempDir dir;
  // 20 MB of zeros compresses ~1000:1.
  sh(dir,
     "head -c 20000000 /dev/zero > zeros.crl && zip -q bomb.zip zeros.crl && "
     "gzip -k zeros.crl");
  std::string zip_bomb = read_text(dir.file("bomb.zip"));
  CHECK(starts_with(unpack_error(zip_bomb),
                    kUrl + ": the archive's compression ratio is above 200 ("));
  CHECK(starts_with(unpack_error(read_text(dir.file("zeros.crl.gz"))),
                    kUrl + ": the archive's compression ratio is above 200 ("));
  UnpackLimits loose;
  loose.max_ratio = 1u << 30;
  loose.max_expanded_bytes = 1u << 20;
  CHECK(unpack_error(zip_bomb, loose) == kUrl + ": the archive expands beyond 1048576 bytes");
  loose.max_expanded_bytes = 64u << 20;
  CHECK(unpack_error(zip_bomb, loose) ==
        kUrl +
            ": archive member 'zeros.crl': expands beyond the 16777216-byte limit for one "
            "CRL file");

  // More members than allowed.
  sh(dir,
     "mkdir many && cd many && for i in 1 2 3 4 5; do echo x > $i.crl; done && "
     "zip -q ../many.zip *.crl");
  UnpackLimits few;
  few.max_members = 3;
  CHECK(unpack_error(read_text(dir.file("many.zip")), few) ==
        kUrl + ": the archive holds more than 3 members");

  // A 20 MB download, refused before anything parses it.
  std::string big(20u << 20, '\x30');
  CHECK(unpack_error(big) == kUrl + ": 20971520 bytes, more than the 16777216-byte limit");
}

TEST_CASE("unpack: a GZIP stream cut short, followed by junk, or holding a long DER",
          "[revocation][unpack]") {
  TestPki p;
  TempDir dir;
  dir.write("ca.crl", make_crl(p, 1).to_der());
  sh(dir, "gzip -k ca.crl");
  std::string gz = read_text(dir.file("ca.crl.gz"));
  CHECK(starts_with(unpack_error(gz.substr(0, gz.size() - 12)), kUrl + ": "));
  // Bytes after the last gzip member are ignored, as `gzip -d` does ("trailing
  // garbage ignored"); the CRL inside is still held to strict DER.
  CHECK(unpack_ok(gz + "trailing junk").size() == 1);
  dir.write("long.crl", make_crl(p, 1).to_der() + "xy");
  sh(dir, "gzip -k long.crl");
  CHECK(starts_with(unpack_error(read_text(dir.file("long.crl.gz"))),
                    kUrl + ": archive member 'long.crl': 2 bytes of trailing data after the DER "
                           "CRL at offset "));
}
