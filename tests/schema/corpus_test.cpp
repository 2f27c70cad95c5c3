// The spec corpus: every good file loads cleanly; every bad file produces
// exactly the diagnostics its "# expect: LINE:COL: SEVERITY: TEXT" header lines
// announce (position exact, message by substring) and makes the CLI exit 1;
// every warn file loads with exactly its announced warnings (validate exits
// 0, validate --strict 1).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "schema/loader.h"
#include "tests/support/test_support.h"

namespace {

using edgecert::Diagnostic;
using edgecert::Severity;
using edgecert::testing::test_data;

struct Expect {
  int line = 0;
  int column = 0;
  Severity severity = Severity::kError;
  std::string text;
};

std::vector<std::string> corpus_files(const std::string& sub) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(test_data("schema/corpus/" + sub)))
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Expect> expectations(const std::string& path) {
  static const std::regex re(R"(^# expect: (\d+):(\d+): (error|warning): (.+)$)");
  std::vector<Expect> out;
  std::istringstream in(read_text(path));
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (!std::regex_match(line, m, re)) continue;
    out.push_back({std::stoi(m[1]), std::stoi(m[2]),
                   m[3] == "error" ? Severity::kError : Severity::kWarning, m[4]});
  }
  return out;
}

std::string render(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const Diagnostic& d : ds) s += d.to_string() + "\n";
  return s;
}

// True when `got` holds the diagnostic `e` announces for file `f`.
bool reported(const std::vector<Diagnostic>& got, const Expect& e, const std::string& f) {
  return std::any_of(got.begin(), got.end(), [&](const Diagnostic& d) {
    return d.line == e.line && d.column == e.column && d.severity == e.severity &&
           d.message.find(e.text) != std::string::npos && d.path == f;
  });
}

}  // namespace

TEST_CASE("corpus: every good spec loads without diagnostics", "[schema][corpus]") {
  auto files = corpus_files("good");
  REQUIRE(files.size() >= 5);
  for (const std::string& f : files) {
    INFO(f);
    auto r = edgecert::schema::load_spec_file(f, edgecert::default_env());
    CHECK(r.ok());
    CHECK(render(r.diagnostics.sorted()) == "");
    CHECK(edgecert::testing::run_cli({"validate", "--strict", f}).status == 0);
  }
}

TEST_CASE("corpus: every bad spec reports exactly its expected diagnostics", "[schema][corpus]") {
  auto files = corpus_files("bad");
  REQUIRE(files.size() >= 45);
  for (const std::string& f : files) {
    INFO(f);
    auto expects = expectations(f);
    REQUIRE(!expects.empty());
    auto r = edgecert::schema::load_spec_file(f, edgecert::default_env());
    CHECK_FALSE(r.ok());
    std::vector<Diagnostic> got = r.diagnostics.sorted();
    INFO("diagnostics:\n" << render(got));
    CHECK(got.size() == expects.size());
    for (const Expect& e : expects) {
      INFO("expected " << e.line << ":" << e.column << ": " << e.text);
      CHECK(reported(got, e, f));
    }
    auto cli = edgecert::testing::run_cli({"validate", f});
    CHECK(cli.status == 1);
    CHECK(cli.out == "");
  }
}

TEST_CASE("corpus: every warn spec loads with exactly its expected warnings", "[schema][corpus]") {
  auto files = corpus_files("warn");
  REQUIRE(files.size() >= 5);
  for (const std::string& f : files) {
    INFO(f);
    auto expects = expectations(f);
    REQUIRE(!expects.empty());
    auto r = edgecert::schema::load_spec_file(f, edgecert::default_env());
    std::vector<Diagnostic> got = r.diagnostics.sorted();
    INFO("diagnostics:\n" << render(got));
    CHECK(r.ok());
    CHECK(r.diagnostics.error_count() == 0);
    CHECK(got.size() == expects.size());
    for (const Expect& e : expects) {
      INFO("expected " << e.line << ":" << e.column << ": " << e.text);
      CHECK(e.severity == Severity::kWarning);
      CHECK(reported(got, e, f));
    }
    CHECK(edgecert::testing::run_cli({"validate", f}).status == 0);
    CHECK(edgecert::testing::run_cli({"validate", "--strict", f}).status == 1);
  }
}

TEST_CASE("corpus: bad files declare their JSON Schema verdict", "[schema][corpus]") {
  for (const std::string& f : corpus_files("bad")) {
    INFO(f);
    std::string text = read_text(f);
    bool accept = text.find("\n# schema: accept\n") != std::string::npos;
    bool reject = text.find("\n# schema: reject\n") != std::string::npos;
    CHECK(accept != reject);
  }
}

TEST_CASE("corpus: a file with many errors reports all of them, sorted by position",
          "[schema][corpus]") {
  std::string f = test_data("schema/corpus/bad/multi-error.yaml");
  auto expects = expectations(f);
  REQUIRE(expects.size() >= 6);
  auto r = edgecert::schema::load_spec_file(f, edgecert::default_env());
  REQUIRE_FALSE(r.ok());
  // The same-CN self-signed pair is an error (Expressway trusts only one).
  CHECK(r.diagnostics.warning_count() == 0);
  CHECK(r.diagnostics.error_count() == expects.size());

  // The header lists them in file order; the CLI prints them in that order.
  auto cli = edgecert::testing::run_cli({"validate", f});
  CHECK(cli.status == 1);
  std::istringstream lines(cli.err);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    REQUIRE(i < expects.size());
    std::string prefix = f + ":" + std::to_string(expects[i].line) + ":" +
                         std::to_string(expects[i].column) + ": " +
                         (expects[i].severity == Severity::kError ? "error: " : "warning: ");
    INFO(line);
    CHECK(line.rfind(prefix, 0) == 0);
    CHECK(line.find(expects[i].text) != std::string::npos);
    ++i;
  }
  CHECK(i == expects.size());
}
