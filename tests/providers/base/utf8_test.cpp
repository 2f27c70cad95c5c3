#include "providers/base/utf8.h"

#include <catch2/catch.hpp>

using edgecert::find_invalid_utf8;
using edgecert::is_valid_utf8;
using edgecert::printable_utf8;

TEST_CASE("utf8: well-formed sequences per RFC 3629", "[base][utf8]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ASCII\n"));
  CHECK(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x92 \xF4\x8F\xBF\xBF"));
  CHECK(find_invalid_utf8("ab\xFF") == 2u);
  CHECK(find_invalid_utf8("\x80") == 0u);               // a lone continuation byte
  CHECK(find_invalid_utf8("a\xC0\xAF") == 1u);          // overlong '/'
  CHECK(find_invalid_utf8("a\xE0\x80\xAF") == 1u);      // overlong, three bytes
  CHECK(find_invalid_utf8("a\xED\xA0\x80") == 1u);      // a UTF-16 surrogate
  CHECK(find_invalid_utf8("a\xF4\x90\x80\x80") == 1u);  // above U+10FFFF
  CHECK(find_invalid_utf8("a\xF5\x80\x80\x80") == 1u);
  CHECK(find_invalid_utf8("ab\xE2\x82") == 2u);   // truncated at the end
  CHECK(find_invalid_utf8("ab\xE2\x82x") == 2u);  // truncated in the middle
}

TEST_CASE("utf8: printable_utf8 replaces each malformed byte", "[base][utf8]") {
  CHECK(printable_utf8("ok \xC3\xA9") == "ok \xC3\xA9");
  CHECK(printable_utf8("a\xFF"
                       "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(printable_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(is_valid_utf8(printable_utf8("\xC0\xAF\xED\xA0\x80\xF4\x90")));
}
