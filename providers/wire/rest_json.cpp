#include "providers/wire/rest_json.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace edgecert::wire::rest {

using nlohmann::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The start of a non-JSON body for a message: bounded, one line.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 60)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return body.size() > 60 ? out + "..." : out;
}

std::optional<json> parse_json(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Error not_json(std::string_view body, std::string_view what) {
  std::string start = lower(excerpt(body));
  bool html =
      start.find("<html") != std::string::npos || start.find("<!doctype") != std::string::npos;
  return Error::Corrupt(fmt::format("{} is {}, not JSON: '{}'", what,
                                    html ? "an HTML page (a login or proxy page?)" : "malformed",
                                    excerpt(body)));
}

Error bad_field(std::string_view field, std::string_view problem) {
  return Error::InvalidArgument(fmt::format("generate_csr body: {} {}", field, problem));
}

const char* key_algorithm_wire(pki::KeyAlgorithm a) {
  return a == pki::KeyAlgorithm::kEcdsa ? "ECDSA" : "RSA";
}

}  // namespace

const char* reason_phrase(long status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::string format_message(std::string_view text) {
  return json{{"Message", std::string(text)}}.dump();
}

Result<std::string> parse_message(std::string_view body) {
  auto j = parse_json(body);
  if (!j) return not_json(body, "REST reply");
  if (!j->is_object() || !j->contains("Message") || !(*j)["Message"].is_string())
    return Error::Corrupt(
        fmt::format("REST reply has no string \"Message\": '{}'", excerpt(j->dump())));
  return (*j)["Message"].get<std::string>();
}

std::string encode_generate_csr(const GenerateCsrRequest& r) {
  json j = {{"Additional_FQDNS", r.additional_fqdns},
            {"Country", r.country},
            {"Province", r.province},
            {"Locality", r.locality},
            {"Organization", r.organization},
            {"OrganizationalUnit", r.organizational_unit},
            {"Email", r.email},
            {"KeyLength", r.key_length},
            {"DigestAlgorithm", std::string(pki::digest_name(r.digest))}};
  if (r.common_name) j["CommonName"] = *r.common_name;
  if (r.public_key_algorithm != pki::KeyAlgorithm::kRsa)
    j["PublicKeyAlgorithm"] = key_algorithm_wire(r.public_key_algorithm);
  return j.dump();
}

Result<GenerateCsrRequest> decode_generate_csr(std::string_view body) {
  auto parsed = parse_json(body);
  if (!parsed) {
    Error e = not_json(body, "generate_csr body");
    e.code = ErrorCode::kInvalidArgument;
    return e;
  }
  const json& j = *parsed;
  if (!j.is_object()) return bad_field("(the body)", "must be a JSON object");
  GenerateCsrRequest r;
  std::optional<std::string> algorithm;
  bool have_length = false, have_digest = false;
  for (const auto& [key, value] : j.items()) {
    auto string_field = [&](std::string& out) -> Status {
      if (!value.is_string()) return bad_field(key, "must be a string");
      out = value.get<std::string>();
      return {};
    };
    Status st;
    if (key == "CommonName") {
      std::string cn;
      st = string_field(cn);
      r.common_name = cn;
    } else if (key == "Country") {
      st = string_field(r.country);
    } else if (key == "Province") {
      st = string_field(r.province);
    } else if (key == "Locality") {
      st = string_field(r.locality);
    } else if (key == "Organization") {
      st = string_field(r.organization);
    } else if (key == "OrganizationalUnit") {
      st = string_field(r.organizational_unit);
    } else if (key == "Email") {
      st = string_field(r.email);
    } else if (key == "Additional_FQDNS") {
      if (!value.is_array()) return bad_field(key, "must be a list of names");
      for (const json& name : value) {
        if (!name.is_string()) return bad_field(key, "must be a list of names");
        r.additional_fqdns.push_back(name.get<std::string>());
      }
    } else if (key == "PublicKeyAlgorithm") {
      std::string a;
      st = string_field(a);
      algorithm = a;
    } else if (key == "KeyLength") {
      if (!value.is_number_integer()) return bad_field(key, "must be a whole number");
      r.key_length = value.get<int>();
      have_length = true;
    } else if (key == "DigestAlgorithm") {
      std::string d;
      st = string_field(d);
      if (st) {
        auto digest = enum_parse(pki::kDigestNames, lower(d));
        if (!digest)
          return bad_field(key, fmt::format("is '{}', expected one of {}", d,
                                            enum_spellings(pki::kDigestNames)));
        r.digest = *digest;
      }
      have_digest = true;
    } else {
      return bad_field(fmt::format("field \"{}\"", key), "is not known");
    }
    if (!st) return st.error();
  }
  if (!have_length) return bad_field("KeyLength", "is required");
  if (!have_digest) return bad_field("DigestAlgorithm", "is required");
  if (algorithm) {
    std::string a = lower(*algorithm);
    if (a == "rsa") {
      r.public_key_algorithm = pki::KeyAlgorithm::kRsa;
    } else if (a == "ecdsa") {
      r.public_key_algorithm = pki::KeyAlgorithm::kEcdsa;
    } else {
      return bad_field("PublicKeyAlgorithm",
                       fmt::format("is '{}', expected RSA or ECDSA", *algorithm));
    }
  }
  bool ecdsa = r.public_key_algorithm == pki::KeyAlgorithm::kEcdsa;
  bool length_ok = ecdsa ? (r.key_length == 256 || r.key_length == 384 || r.key_length == 521)
                         : (r.key_length == 2048 || r.key_length == 4096);
  if (!length_ok)
    return bad_field("KeyLength", fmt::format("is {}, expected {} for {}", r.key_length,
                                              ecdsa ? "256, 384 or 521" : "2048 or 4096",
                                              key_algorithm_wire(r.public_key_algorithm)));
  if (!r.country.empty() &&
      (r.country.size() != 2 ||
       !std::ranges::all_of(r.country, [](unsigned char c) { return std::isalpha(c) != 0; })))
    return bad_field("Country", fmt::format("is '{}', expected two letters", r.country));
  return r;
}

}  // namespace edgecert::wire::rest
