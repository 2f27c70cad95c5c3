#include "providers/wire/xacli.h"

#include <catch2/catch.hpp>

using namespace edgecert;
using namespace edgecert::wire::xacli;

namespace {

// The reference's literal examples (expressway-interfaces.md §3.4).
constexpr const char* kSystemUnit =
    "*s SystemUnit: /\n"
    "     Product: \"TANDBERG VCS\"\n"
    "     Uptime: 2492\n"
    "     Software:\n"
    "       Version: \"X15.0.2\"\n"
    "*s/end\n"
    "\n"
    "OK\n";

constexpr const char* kSettings =
    "*r Result (status=OK):\n"
    "     RenewKey: \"Rotate\"\n"
    "     RenewalSchedule: \"{\\\"DaysOfWeek\\\":[\\\"Mon\\\"],\\\"TimeOfDay\\\":\\\"04:00\\\"}\"\n"
    "*r/end\n"
    "\n"
    "OK\n";

constexpr const char* kNoCsr =
    "*r Result (status=Error):\n"
    "     Reason: \"No CSR is pending\"\n"
    "*r/end\n"
    "\n"
    "ERROR\n";

std::string crlf(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::string error_of(std::string_view text) {
  auto r = parse_reply(text);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kCorrupt);
  return r.error().message;
}

}  // namespace

TEST_CASE("xacli: the reference's xStatus SystemUnit reply parses into a tree", "[wire][xacli]") {
  auto r = parse_reply(kSystemUnit);
  REQUIRE(r);
  CHECK(r->ok);
  REQUIRE(r->status.size() == 1);
  const StatusBlock& b = r->status[0];
  CHECK(b.path == "SystemUnit");
  CHECK(*field(b.children, "Product", "x") == Value::string("TANDBERG VCS"));
  CHECK(*field(b.children, "Uptime", "x") == Value::bare("2492"));
  const Node* software = find(b.children, "Software");
  REQUIRE(software != nullptr);
  CHECK_FALSE(software->value);
  CHECK(*field(software->children, "Version", "x") == Value::string("X15.0.2"));
  // A parent is not a value; a missing field names itself and the command.
  auto soft = field(b.children, "Software", "xStatus SystemUnit");
  REQUIRE_FALSE(soft);
  CHECK(soft.error().message.find("'Software' holds fields") != std::string::npos);
  auto missing = field(b.children, "Serial", "xStatus SystemUnit");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "reply to 'xStatus SystemUnit' has no field 'Serial'");
}

TEST_CASE("xacli: results with escapes and the error form parse, with LF or CRLF",
          "[wire][xacli]") {
  for (bool use_crlf : {false, true}) {
    auto r = parse_reply(use_crlf ? crlf(kSettings) : std::string(kSettings));
    REQUIRE(r);
    CHECK(r->ok);
    REQUIRE(r->results.size() == 1);
    CHECK(r->results[0].ok);
    CHECK(*field(r->results[0].fields, "RenewalSchedule", "x") ==
          Value::string(R"({"DaysOfWeek":["Mon"],"TimeOfDay":"04:00"})"));

    auto e = parse_reply(use_crlf ? crlf(kNoCsr) : std::string(kNoCsr));
    REQUIRE(e);
    CHECK_FALSE(e->ok);
    REQUIRE(e->results.size() == 1);
    CHECK_FALSE(e->results[0].ok);
    CHECK(*field(e->results[0].fields, "Reason", "x") == Value::string("No CSR is pending"));
    CHECK(*e == error_reply("No CSR is pending"));
  }
}

TEST_CASE("xacli: configuration lines, a newline escape and an echoed command", "[wire][xacli]") {
  const std::string text =
      "xConfiguration SIP TLS Certificate Revocation Checking\r\n"
      "*c xConfiguration SIP TLS Certificate Revocation Checking Mode: Off\r\n"
      "*c xConfiguration SIP TLS Certificate Revocation Checking Source Inaccessibility "
      "Behavior: Fail\r\n"
      "*r Result (status=OK):\r\n"
      "     Certificate: \"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"\r\n"
      "*r/end\r\n"
      "OK\r\n";
  auto r = parse_reply(text, "xConfiguration SIP TLS Certificate Revocation Checking");
  REQUIRE(r);
  REQUIRE(r->config.size() == 2);
  CHECK(r->config[0] ==
        ConfigLine{"SIP TLS Certificate Revocation Checking Mode", Value::bare("Off")});
  CHECK(r->config[1].path ==
        "SIP TLS Certificate Revocation Checking Source Inaccessibility Behavior");
  CHECK(field(r->results[0].fields, "Certificate", "x")->text ==
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  // Blank lines may come anywhere, inside blocks too.
  auto spaced = parse_reply("\r\n*s A: /\r\n\r\n     B: 1\r\n   \r\n*s/end\r\n\r\n\r\nOK\r\n\r\n");
  REQUIRE(spaced);
  CHECK(spaced->status == std::vector<StatusBlock>{{"A", {Node::leaf("B", Value::bare("1"))}}});
  // Without the echo argument the echoed line is an error naming it.
  CHECK(error_of(text).find("line 1: expected '*s PATH: /'") != std::string::npos);
}

TEST_CASE("xacli: format_reply writes what parse_reply reads, as the reference shows",
          "[wire][xacli]") {
  Reply status;
  status.status.push_back(
      {"SystemUnit",
       {Node::leaf("Product", Value::string("TANDBERG VCS")),
        Node::leaf("Uptime", Value::bare("2492")),
        Node::parent("Software", {Node::leaf("Version", Value::string("X15.0.2"))})}});
  CHECK(format_reply(status, "\n") == kSystemUnit);
  CHECK(format_reply(error_reply("No CSR is pending"), "\n") == kNoCsr);

  Reply mixed;
  mixed.status.push_back({"Empty", {Node::parent("Nothing", {})}});
  mixed.config.push_back({"Alternates Cluster Name", Value::string("a \"quoted\"\nname\\")});
  mixed.results.push_back(
      {true,
       {Node::leaf("RenewalSchedule", Value::string(R"({"a":["b"]})")),
        Node::parent("Deep", {Node::parent("Deeper", {Node::leaf("Leaf", Value::bare("1"))})})}});
  // A bare value that cannot be printed bare comes back as a string.
  mixed.results.push_back({false, {Node::leaf("Odd", Value::bare("two\nlines"))}});
  mixed.ok = false;
  auto back = parse_reply(format_reply(mixed));
  REQUIRE(back);
  Reply expected = mixed;
  expected.results[1].fields[0].value = Value::string("two\nlines");
  CHECK(*back == expected);
}

TEST_CASE("xacli: truncated and malformed replies name the line and what was expected",
          "[wire][xacli]") {
  CHECK(error_of("") == "CLI reply is empty: expected a final OK or ERROR line");
  // No final OK/ERROR.
  CHECK(error_of("*s SystemUnit: /\n     Uptime: 1\n*s/end\n") ==
        "CLI reply is truncated: expected a final OK or ERROR line after line 3");
  // Unterminated blocks, at the end and before the final line.
  CHECK(error_of("*r Result (status=OK):\n     RenewKey: \"Rotate\"\n") ==
        "CLI reply is truncated: expected '*r/end' closing the block opened on line 1 "
        "('*r Result (status=OK):')");
  CHECK(error_of("*r Result (status=OK):\n     RenewKey: \"Rotate\"\nOK\n") ==
        "CLI reply line 3: expected an indented field or '*r/end' closing the block opened on "
        "line 1, got 'OK'");
  // Bad indentation: not 5 + 2k, a jump of two levels, a child under a leaf.
  CHECK(error_of("*s A: /\n    B: 1\n*s/end\nOK\n") ==
        "CLI reply line 2: expected a field indented 5 spaces (block opened on line 1), got "
        "'    B: 1'");
  CHECK(error_of("*s A: /\n     B:\n         C: 1\n*s/end\nOK\n")
            .find("line 3: expected a field indented 7 spaces or less") != std::string::npos);
  CHECK(error_of("*s A: /\n     B: 1\n       C: 1\n*s/end\nOK\n")
            .find("line 3: expected a field indented 5 spaces") != std::string::npos);
  // Values: an unterminated string, an unknown escape, text after the quote.
  CHECK(error_of("*r Result (status=OK):\n     A: \"open\n*r/end\nOK\n") ==
        "CLI reply line 2: expected a closing '\"', got '     A: \"open'");
  CHECK(error_of("*r Result (status=OK):\n     A: \"\\q\"\n*r/end\nOK\n")
            .find("expected a known escape") != std::string::npos);
  CHECK(error_of("*r Result (status=OK):\n     A: \"x\" y\n*r/end\nOK\n")
            .find("expected nothing after the closing '\"'") != std::string::npos);
  // Unknown shapes.
  CHECK(error_of("*r Result (status=Maybe):\n*r/end\nOK\n").find("line 1: expected") !=
        std::string::npos);
  CHECK(error_of("*c xStatus Foo: 1\nOK\n") ==
        "CLI reply line 1: expected '*c xConfiguration PATH: VALUE', got '*c xStatus Foo: 1'");
  CHECK(error_of("*s SystemUnit\nOK\n") ==
        "CLI reply line 1: expected '*s PATH: /', got '*s SystemUnit'");
  CHECK(error_of("*s A: /\n     no colon here\n*s/end\nOK\n")
            .find("line 2: expected 'Key: value' or 'Key:'") != std::string::npos);
  CHECK(error_of("OK\nmore\n") ==
        "CLI reply line 2: expected nothing after the final OK/ERROR, "
        "got 'more'");
}

TEST_CASE("xacli: command lines are built with the quoting each value needs", "[wire][xacli]") {
  CommandLine write{
      {"xCommand", "ACME", "Settings", "Write"},
      {{"AcmeManaged", "Automated"},
       {"RenewKey", "Rotate"},
       {"RenewalSchedule", R"({"DaysOfWeek":["Mon"],"TimeOfDay":"04:00"})", Quote::kSingle}}};
  CHECK(*format_command(write) ==
        R"(xCommand ACME Settings Write AcmeManaged: "Automated" RenewKey: "Rotate" )"
        R"(RenewalSchedule: '{"DaysOfWeek":["Mon"],"TimeOfDay":"04:00"}')");
  CommandLine set{{"xConfiguration", "SIP", "TLS", "Certificate", "Revocation", "Checking"},
                  {{"Mode", "On", Quote::kBare}}};
  CHECK(*format_command(set) == "xConfiguration SIP TLS Certificate Revocation Checking Mode: On");
  CommandLine spaced{{"xCommand", "ACME", "Revoke"},
                     {{"CertPath", "/tmp/old cert \"1\".pem"}, {"Provider", "Let's Encrypt"}}};
  CHECK(*format_command(spaced) ==
        R"(xCommand ACME Revoke CertPath: "/tmp/old cert \"1\".pem" Provider: "Let's Encrypt")");

  auto bad = [](CommandLine c) {
    auto r = format_command(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    return r.error().message;
  };
  CHECK(bad({{"xCommand"}, {{"A", "two words", Quote::kBare}}}) ==
        "CLI argument A: a bare value must be one word without quotes or colons");
  CHECK(bad({{"xCommand"}, {{"A", "it's", Quote::kSingle}}}) ==
        "CLI argument A: a single-quoted value cannot hold ' or a line break");
  CHECK(bad({{"xCommand"}, {{"A", "x\ny", Quote::kSingle}}}).find("line break") !=
        std::string::npos);
  CHECK(bad({{"x Command"}, {}}).find("word 'x Command'") != std::string::npos);
  CHECK(bad({{"xCommand"}, {{"Na:me", "v"}}}).find("name 'Na:me'") != std::string::npos);
  CHECK(bad({{}, {}}) == "CLI command has no words");
}

TEST_CASE("xacli: the server parses command lines, keywords in any case", "[wire][xacli]") {
  auto c =
      parse_command(R"(xcommand acme SETTINGS write AcmeManaged: "Automated" renewkey: Rotate )"
                    R"(RenewalSchedule: '{"DaysOfWeek":["Mon"],"TimeOfDay":"04:00"}')"
                    "\r\n");
  REQUIRE(c);
  CHECK(c->is({"xCommand", "ACME", "Settings", "Write"}));
  CHECK_FALSE(c->is({"xCommand", "ACME", "Settings"}));
  CHECK(c->starts_with({"XCOMMAND", "Acme"}));
  REQUIRE(c->arg("RenewKey") != nullptr);
  CHECK(*c->arg("RenewKey") == Arg{"renewkey", "Rotate", Quote::kBare});
  CHECK(*c->arg("acmemanaged") == Arg{"AcmeManaged", "Automated", Quote::kDouble});
  CHECK(c->arg("RenewalSchedule")->value == R"({"DaysOfWeek":["Mon"],"TimeOfDay":"04:00"})");
  CHECK(c->arg("RenewalSchedule")->quote == Quote::kSingle);
  CHECK(c->arg("Missing") == nullptr);

  // Every built line parses back to what was built.
  CommandLine built{{"xCommand", "ACME", "Providers", "Write"},
                    {{"ProviderUuid", "Default"},
                     {"Email", "ops@example.com", Quote::kBare},
                     {"TermsOfService", ""},
                     {"Note", "a \"b\"\nc\\d"},
                     {"Json", R"({"x":"y z"})", Quote::kSingle}}};
  CHECK(*parse_command(*format_command(built)) == built);

  auto set = parse_command("xConfiguration SIP TLS Certificate Revocation Checking OCSP Mode:On");
  REQUIRE(set);
  CHECK(set->words.back() == "OCSP");
  CHECK(*set->arg("Mode") == Arg{"Mode", "On", Quote::kBare});
  auto read = parse_command("  xStatus   SystemUnit  ");
  REQUIRE(read);
  CHECK(read->words == std::vector<std::string>{"xStatus", "SystemUnit"});
  CHECK(read->args.empty());

  auto bad = [](std::string_view line) {
    auto r = parse_command(line);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    return r.error().message;
  };
  CHECK(bad("   ") == "CLI command is empty");
  CHECK(bad(R"(xCommand A B: "open)") ==
        R"(CLI command, column 15: argument 'B': expected a closing '"' in 'xCommand A B: "open')");
  CHECK(bad("xCommand A B: 'open").find("column 15: argument 'B': expected a closing \"'\"") !=
        std::string::npos);
  CHECK(bad("xCommand A B:").find("column 12: argument 'B' without a value") != std::string::npos);
  CHECK(
      bad("xCommand A B: 1 stray").find("column 17: expected 'Name: value' after the arguments") !=
      std::string::npos);
  CHECK(bad(R"(xCommand "A")").find("column 10: a quote where a word belongs") !=
        std::string::npos);
  CHECK(bad(R"(xCommand A B: "x"y)").find("expected a space after the value") != std::string::npos);
  CHECK(bad("B: 1").find("a command word before the arguments") != std::string::npos);
}
