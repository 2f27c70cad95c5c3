#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "schema/enums.h"

using edgecert::schema::enum_name;
using edgecert::schema::enum_spellings;
using edgecert::schema::enum_values;
using edgecert::schema::parse_enum;
namespace spec = edgecert::spec;

namespace {

// Every value's spelling parses back to that value, and no two share one.
template <class E>
void check_round_trip() {
  for (E v : enum_values<E>()) CHECK(parse_enum<E>(enum_name(v)) == v);
  auto names = enum_spellings<E>();
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
}

}  // namespace

TEST_CASE("enums: every spelling parses back to its value", "[schema][enums]") {
  check_round_trip<spec::Product>();
  check_round_trip<spec::TlsVerification>();
  check_round_trip<spec::Role>();
  check_round_trip<spec::KeyAlgorithm>();
  check_round_trip<spec::Digest>();
  check_round_trip<spec::DomainFormat>();
  check_round_trip<spec::KeyRotation>();
  check_round_trip<spec::AcmeMode>();
  check_round_trip<spec::RevocationFallback>();
}

TEST_CASE("enums: an unknown spelling is no value, not a default", "[schema][enums]") {
  CHECK_FALSE(parse_enum<spec::Digest>("sha1"));
  CHECK_FALSE(parse_enum<spec::Digest>("SHA256"));  // case matters
  CHECK_FALSE(parse_enum<spec::RevocationFallback>(""));
  CHECK_FALSE(parse_enum<spec::Role>("mra "));
}

TEST_CASE("enums: spellings are listed in documentation order", "[schema][enums]") {
  CHECK(enum_spellings<spec::Role>() ==
        std::vector<std::string>{"mra", "jabber-guest", "xmpp-federation", "b2b"});
  CHECK(enum_spellings<spec::DomainFormat>() == std::vector<std::string>{"dns", "collab-edge-dns"});
  CHECK(enum_spellings<spec::RevocationFallback>() ==
        std::vector<std::string>{"treat-as-not-revoked", "treat-as-revoked"});
}
