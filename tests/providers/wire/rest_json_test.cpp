#include "providers/wire/rest_json.h"

#include <catch2/catch.hpp>

using namespace edgecert;
using namespace edgecert::wire::rest;

namespace {

std::string error_of(std::string_view body) {
  auto r = decode_generate_csr(body);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  return r.error().message;
}

}  // namespace

TEST_CASE("rest json: Message bodies both ways, and non-JSON replies say what they are",
          "[wire][rest]") {
  CHECK(format_message("The operation was successful") ==
        R"({"Message":"The operation was successful"})");
  CHECK(*parse_message(R"({"Message": "Root Certificate updated."})") ==
        "Root Certificate updated.");
  CHECK(*parse_message(format_message("a \"quoted\" text")) == "a \"quoted\" text");
  auto html = parse_message("<!DOCTYPE html>\n<html><body>Sign in</body></html>");
  REQUIRE_FALSE(html);
  CHECK(html.error().code == ErrorCode::kCorrupt);
  CHECK(html.error().message ==
        "REST reply is an HTML page (a login or proxy page?), not JSON: '<!DOCTYPE html> "
        "<html><body>Sign in</body></html>'");
  auto truncated = parse_message(R"({"Message": "O)");
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().message.starts_with("REST reply is malformed, not JSON"));
  auto other = parse_message(R"({"Status": "OK"})");
  REQUIRE_FALSE(other);
  CHECK(other.error().message == R"(REST reply has no string "Message": '{"Status":"OK"}')");
}

TEST_CASE("rest json: generate_csr bodies as py-expressway sends them decode", "[wire][rest]") {
  // T1's field names and value spellings.
  auto r = decode_generate_csr(R"({"Additional_FQDNS": ["b.example.com"], "Country": "US",
      "KeyLength": 4096, "DigestAlgorithm": "sha256", "Province": "CA", "Locality": "SJ",
      "Organization": "Example", "OrganizationalUnit": "IT", "Email": ""})");
  REQUIRE(r);
  CHECK(r->additional_fqdns == std::vector<std::string>{"b.example.com"});
  CHECK(r->country == "US");
  CHECK(r->province == "CA");
  CHECK(r->organizational_unit == "IT");
  CHECK_FALSE(r->common_name);
  CHECK(r->public_key_algorithm == pki::KeyAlgorithm::kRsa);
  CHECK(r->key_length == 4096);
  CHECK(r->digest == pki::Digest::kSha256);

  auto ec = decode_generate_csr(R"({"KeyLength": 384, "DigestAlgorithm": "SHA384",
      "PublicKeyAlgorithm": "ecdsa", "CommonName": "edge.example.com"})");
  REQUIRE(ec);
  CHECK(ec->public_key_algorithm == pki::KeyAlgorithm::kEcdsa);
  CHECK(ec->key_length == 384);
  CHECK(ec->digest == pki::Digest::kSha384);
  CHECK(ec->common_name == "edge.example.com");
}

TEST_CASE("rest json: generate_csr encodes what it decodes", "[wire][rest]") {
  GenerateCsrRequest rsa;
  rsa.additional_fqdns = {"a.example.com", "b.example.com"};
  rsa.country = "DE";
  rsa.email = "pki@example.com";
  rsa.key_length = 2048;
  rsa.digest = pki::Digest::kSha512;
  std::string body = encode_generate_csr(rsa);
  CHECK(body.find(R"("DigestAlgorithm":"sha512")") != std::string::npos);
  CHECK(body.find(R"("KeyLength":2048)") != std::string::npos);
  // RSA is the node's default and CommonName defaults to the FQDN: neither is sent.
  CHECK(body.find("PublicKeyAlgorithm") == std::string::npos);
  CHECK(body.find("CommonName") == std::string::npos);
  CHECK(*decode_generate_csr(body) == rsa);

  GenerateCsrRequest ecdsa;
  ecdsa.common_name = "edge.example.com";
  ecdsa.public_key_algorithm = pki::KeyAlgorithm::kEcdsa;
  ecdsa.key_length = 521;
  body = encode_generate_csr(ecdsa);
  CHECK(body.find(R"("PublicKeyAlgorithm":"ECDSA")") != std::string::npos);
  CHECK(*decode_generate_csr(body) == ecdsa);
}

TEST_CASE("rest json: generate_csr bodies are validated field by field", "[wire][rest]") {
  CHECK(error_of(R"({"DigestAlgorithm": "sha256"})") == "generate_csr body: KeyLength is required");
  CHECK(error_of(R"({"KeyLength": 4096})") == "generate_csr body: DigestAlgorithm is required");
  CHECK(error_of(R"({"KeyLength": 4096, "DigestAlgorithm": "sha256", "KeyType": "RSA"})") ==
        R"(generate_csr body: field "KeyType" is not known)");
  CHECK(error_of(R"({"KeyLength": "4096", "DigestAlgorithm": "sha256"})") ==
        "generate_csr body: KeyLength must be a whole number");
  CHECK(error_of(R"({"KeyLength": 4096, "DigestAlgorithm": "sha1"})") ==
        "generate_csr body: DigestAlgorithm is 'sha1', expected one of sha256, sha384, sha512");
  CHECK(error_of(R"({"KeyLength": 1024, "DigestAlgorithm": "sha256"})") ==
        "generate_csr body: KeyLength is 1024, expected 2048 or 4096 for RSA");
  CHECK(error_of(
            R"({"KeyLength": 4096, "DigestAlgorithm": "sha256", "PublicKeyAlgorithm": "ECDSA"})") ==
        "generate_csr body: KeyLength is 4096, expected 256, 384 or 521 for ECDSA");
  CHECK(
      error_of(R"({"KeyLength": 256, "DigestAlgorithm": "sha256", "PublicKeyAlgorithm": "DSA"})") ==
      "generate_csr body: PublicKeyAlgorithm is 'DSA', expected RSA or ECDSA");
  CHECK(error_of(R"({"KeyLength": 4096, "DigestAlgorithm": "sha256", "Country": "USA"})") ==
        "generate_csr body: Country is 'USA', expected two letters");
  CHECK(error_of(R"({"KeyLength": 4096, "DigestAlgorithm": "sha256", "Email": 5})") ==
        "generate_csr body: Email must be a string");
  CHECK(error_of(R"({"KeyLength": 4096, "DigestAlgorithm": "sha256", "Additional_FQDNS": "a"})") ==
        "generate_csr body: Additional_FQDNS must be a list of names");
  CHECK(error_of(R"([4096])") == "generate_csr body: (the body) must be a JSON object");
  CHECK(error_of("<html></html>").find("an HTML page") != std::string::npos);
}
