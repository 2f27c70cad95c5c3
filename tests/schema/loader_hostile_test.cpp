// Hostile spec text (issue 16 defects 1 and 8): malformed YAML that makes
// yaml-cpp 0.7 loop and allocate without bound is refused by the syntax pass
// with a position; nesting, node count and size are capped; control
// characters, anchors, aliases and tags are refused by name; echoed values,
// messages and the number of diagnostics are capped.
//
// A regression of the shield shows up here as a test that never ends (ctest's
// timeout) or runs out of memory; tests/scripts/hostile_yaml_test.sh runs the
// same shapes through the real binary under ulimit -v and timeout.
#include <string>

#include <catch2/catch.hpp>

#include "schema/diagnostic.h"
#include "schema/loader.h"
#include "tests/schema/spec_text.h"
#include "tests/support/test_support.h"

using edgecert::clip_for_message;
using edgecert::Diagnostic;
using edgecert::Diagnostics;
using edgecert::MemoryEnv;
using edgecert::Severity;
using edgecert::schema::load_spec_text;
using edgecert::schema::LoadResult;

namespace {

const char* const kMinimal = edgecert::test::kMinimalSpec;

LoadResult load(const std::string& text) {
  static MemoryEnv env;
  edgecert::schema::LoadOptions o;
  o.check_files = false;
  return load_spec_text(text, "/s/c.yaml", env, o);
}

using edgecert::test::contains;
std::string messages(const LoadResult& r) {
  return edgecert::test::diagnostics_text(r);
}

// Refused with exactly one error, at `where`, whose message starts with `start`.
void refused(const std::string& text, const std::string& where, const std::string& start) {
  LoadResult r = load(text);
  INFO(messages(r));
  CHECK_FALSE(r.ok());
  CHECK(r.diagnostics.sorted().size() == 1);
  CHECK(contains(messages(r), "/s/c.yaml:" + where + ": error: " + start));
}

}  // namespace

TEST_CASE("hostile yaml: shapes that make yaml-cpp loop are refused with a position",
          "[schema][loader][hostile]") {
  // The two specs of issue 16 (5 and 12 bytes that grew validate to 5 GB).
  refused(",a: b", "1:1",
          "YAML syntax error: did not find expected node content; ',' has a "
          "meaning in YAML");
  refused("# \n  ,ame: b", "2:3", "YAML syntax error: did not find expected node content");
  // yaml-cpp issues #1040 ("," alone, "- !+(.,.)") and #499 ("[:", "{:"),
  // #793 ("[[:"), and the Falco report (a plain scalar running into quotes).
  refused(",", "1:1", "YAML syntax error");
  refused("- !+(.,.)", "1:3", "a tag (!+(.,.)): a spec does not use YAML tags");
  refused("[:", "1:1",
          "YAML syntax error: did not find expected node content; this '[' is never "
          "closed with ']'");
  refused("{:", "1:1", "YAML syntax error");
  refused("[[:", "1:2", "YAML syntax error");
  refused("- macro: x\n  condition:\n    (a in (\n\"/usr/b.sh\",\n    \"-c rsync\"\n    )  )\n",
          "4:12", "YAML syntax error: invalid trailing content after double-quoted scalar");
  refused("apiVersion: edgecert/v1\nkind: [a, ,]\n", "2:11",
          "YAML syntax error: flow sequence with invalid extra comma");
  // An unclosed bracket is named where it opens, not where the file ends.
  refused("apiVersion: edgecert/v1\nkind: {a: [b, c]\n", "2:7",
          "YAML syntax error: missing comma in flow mapping; this '{' is never closed with '}'");
  // Columns count bytes, as in every other diagnostic (libfyaml counts
  // characters): the '[' after two 2-byte characters is at byte 11.
  refused("k: \"\xC3\xA9\xC3\xA9\" [b]\n", "1:11",
          "YAML syntax error: invalid trailing content after double-quoted scalar; '[' has a "
          "meaning");
  // A tab where YAML wants indentation.
  refused("metadata:\n\tname: x\n", "2:1", "YAML syntax error");
  // A carriage return alone: a line break to libfyaml, not to yaml-cpp,
  // which looped on these 6 bytes (found by the spec fuzz target,
  // tests/fuzz/crashes/spec/timeout-a06bdb86...).
  refused("#\rpp\n,", "1:2", "a carriage return without a line feed here");
  refused("apiVersion: edgecert/v1\rkind: x\r", "1:24",
          "a carriage return without a line feed here (an old Mac OS line ending)");
}

TEST_CASE("hostile yaml: good specs still pass the syntax pass", "[schema][loader][hostile]") {
  CHECK(load(kMinimal).ok());
  CHECK(load(std::string("\xEF\xBB\xBF") + kMinimal).ok());  // a BOM
  CHECK(load(std::string(kMinimal) + "# caf\xC3\xA9, [not] {flow}: *no &alias !tag\n").ok());
  CHECK(load(std::string(kMinimal) + "...\n").ok());
  std::string crlf;
  for (char c : std::string(kMinimal)) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  CHECK(load(crlf).ok());
}

TEST_CASE("hostile yaml: nesting is capped at 64 levels", "[schema][loader][hostile]") {
  auto flow = [](int depth) {
    return "a: " + std::string(static_cast<size_t>(depth), '[') +
           std::string(static_cast<size_t>(depth), ']') + "\n";
  };
  // 64 levels in all (the root mapping is the first): past the syntax pass,
  // the decoder then names the unknown key.
  LoadResult ok = load(flow(63));
  INFO(messages(ok));
  CHECK(contains(messages(ok), "unknown key 'a'"));
  CHECK_FALSE(contains(messages(ok), "nesting"));
  // The 65th level is named at its '['.
  refused(flow(64), "1:67", "nesting deeper than 64 levels");
  refused(flow(200000), "1:67", "nesting deeper than 64 levels");
  std::string block;
  for (int i = 0; i < 100; ++i) block += std::string(static_cast<size_t>(i) * 2, ' ') + "k:\n";
  refused(block, "65:129", "nesting deeper than 64 levels");
}

TEST_CASE("hostile yaml: node count and size are capped", "[schema][loader][hostile]") {
  std::string keys;
  for (int i = 0; i < 60000; ++i) keys += "k" + std::to_string(i) + ": 1\n";
  // 10,000 nodes: 5,000 keys and their values.
  refused(keys, "5000:8", "more than 10000 values, lists and mappings in the spec");

  std::string big(edgecert::schema::kMaxSpecBytes + 1, '#');
  refused(big, "0:0", "the spec is 1048577 bytes; a spec may be at most 1048576 bytes (1 MiB)");
  LoadResult r = load(big);
  CHECK(messages(r).size() < 300);
}

TEST_CASE("hostile yaml: control characters, anchors, aliases and tags are named",
          "[schema][loader][hostile]") {
  refused(std::string("apiVersion: ed\0ge\n", 18), "1:15",
          "a NUL byte here: YAML does not allow control characters");
  refused(std::string(kMinimal) + "# \x01\n", "13:3", "the control character 0x01 here");
  refused("kind: \x7F\n", "1:7", "the control character 0x7F here");
  refused("kind: \"\xC2\x9B\"\n", "1:8", "the control character U+009B here");
  // A tab in a value and U+0085 (next line) are allowed.
  CHECK_FALSE(contains(messages(load("kind: \"a\tb\xC2\x85\"\n")), "control character"));

  refused("a: &x b\nc: d\n", "1:5", "an anchor (&x): a spec does not use YAML anchors");
  refused("a: b\nc: *x\n", "2:5", "an alias (*x): a spec does not use YAML anchors");
  refused("kind: !!str ExpresswayCluster\n", "1:7", "a tag (!!str): a spec does not use YAML tags");
  // The billion laughs: refused at the first anchor, long before any expansion.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c)
    laughs += fmt::format("{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n", c, c,
                          fmt::arg("p", static_cast<char>(c - 1)));
  refused(laughs, "1:5", "an anchor (&a)");
}

TEST_CASE("hostile yaml: an empty key or a root that is no mapping gets words and a position",
          "[schema][loader][hostile]") {
  LoadResult r = load(std::string(kMinimal) + ": x\n");
  INFO(messages(r));
  CHECK(contains(messages(r),
                 "/s/c.yaml:13:1: error: the document: a key is empty (nothing before the "
                 "':')"));
  LoadResult nested = load("metadata:\n  : x\n");
  INFO(messages(nested));
  CHECK(contains(messages(nested), "/s/c.yaml:2:3: error: metadata: a key is empty"));
  LoadResult list = load("- a\n- b\n");
  INFO(messages(list));
  CHECK(contains(messages(list),
                 "/s/c.yaml:1:1: error: the document: expected a mapping, got a list"));
}

TEST_CASE("hostile yaml: long values are cut in messages", "[schema][loader][hostile]") {
  const std::string huge(900000, 'x');  // under the 1 MiB spec cap
  std::string text = kMinimal;
  text.replace(text.find("name: minimal"), 13, "name: " + huge);
  LoadResult r = load(text);
  INFO(messages(r).substr(0, 2000));
  CHECK_FALSE(r.ok());
  CHECK(contains(messages(r),
                 "metadata.name: '" + std::string(80, 'x') + "... (900000 bytes)' must be"));
  CHECK(messages(r).size() < 1000);

  // An implicit key is at most 1024 characters in YAML; an explicit one is not.
  LoadResult key = load(std::string(kMinimal) + "? " + huge + "\n: 1\n");
  INFO(messages(key).substr(0, 2000));
  CHECK(contains(messages(key), "unknown key '" + std::string(80, 'x') +
                                    "... (900000 bytes)' in the "
                                    "document (known keys:"));
  CHECK(messages(key).size() < 1000);

  LoadResult num = load(std::string(kMinimal) + "  crl: " + std::string(300000, '7') + "\n");
  INFO(messages(num).substr(0, 2000));
  CHECK(contains(messages(num), "(300000 bytes))"));
  CHECK(messages(num).size() < 1000);
}

TEST_CASE("hostile yaml: the number of diagnostics is capped", "[schema][loader][hostile]") {
  std::string keys;
  for (int i = 0; i < 3000; ++i) keys += "k" + std::to_string(i) + ": 1\n";
  LoadResult r = load(keys);
  std::vector<Diagnostic> shown = r.diagnostics.sorted();
  REQUIRE(shown.size() == edgecert::kMaxShownDiagnostics + 1);
  CHECK(r.diagnostics.error_count() == 3004);  // the keys and 4 missing required keys
  CHECK(shown.back().to_string() ==
        "/s/c.yaml:0:0: error: ... and 2954 more problems not shown (the first 50 are above): "
        "fix those first");
  CHECK(messages(r).size() < 8000);
}

TEST_CASE("diagnostics: values, messages and counts are capped", "[schema][diagnostic]") {
  CHECK(clip_for_message("short") == "short");
  CHECK(clip_for_message("two\nlines\tand\r") == "two\\nlines\\tand\\r");
  CHECK(clip_for_message(std::string(80, 'a')) == std::string(80, 'a'));
  CHECK(clip_for_message(std::string(81, 'a')) == std::string(80, 'a') + "... (81 bytes)");
  // Never cut inside a UTF-8 character: 79 ASCII bytes then a 2-byte 'é'.
  CHECK(clip_for_message(std::string(79, 'a') + "\xC3\xA9zz") ==
        std::string(79, 'a') + "... (83 bytes)");

  Diagnostics d;
  d.error("/f", 1, 1, std::string(10000, 'm'));
  CHECK(d.items()[0].message ==
        std::string(edgecert::kMaxMessageBytes, 'm') + "... (message cut: 10000 bytes)");

  Diagnostics many;
  for (int i = 0; i < 60; ++i) many.warning("/a", i + 1, 1, "w");
  Diagnostics other;
  other.error("/b", 1, 1, "e");
  many.append(other);
  CHECK(many.items().size() == edgecert::kMaxShownDiagnostics);
  CHECK(many.error_count() == 1);
  CHECK(many.warning_count() == 60);
  CHECK(many.has_errors());
  auto sorted = many.sorted();
  REQUIRE(sorted.size() == 51);
  CHECK(sorted.back().severity == Severity::kError);
  CHECK(sorted.back().path == "/a");
  CHECK(sorted.back().message.starts_with("... and 11 more problems not shown"));

  Diagnostics few;
  few.error("/c", 2, 3, "x");
  CHECK(few.sorted().size() == 1);
  CHECK(few.omitted_count() == 0);
}
