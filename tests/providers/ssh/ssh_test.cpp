// The ssh layer end to end on 127.0.0.1: the libssh server with a handler
// speaking the XACLI shapes of providers/wire, the libssh client sending
// commands, replies parsed with the wire parser.
#include <libssh/libssh.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include <catch2/catch.hpp>

#include "providers/ssh/ssh_client.h"
#include "providers/ssh/ssh_server.h"
#include "providers/wire/xacli.h"
#include "tests/support/test_support.h"

using namespace edgecert;
namespace xacli = edgecert::wire::xacli;

namespace {

constexpr const char* kPassword = "s3cret-Pa55";
constexpr const char* kBanner =
    "Welcome to edge1\r\nTANDBERG Video Communication Server X15.0.2\r\nOK\r\n";

xacli::Reply system_unit_reply() {
  xacli::Reply r;
  r.status.push_back(
      {"SystemUnit",
       {xacli::Node::leaf("Product", xacli::Value::string("TANDBERG VCS")),
        xacli::Node::leaf("Uptime", xacli::Value::bare("2492")),
        xacli::Node::parent("Software",
                            {xacli::Node::leaf("Version", xacli::Value::string("X15.0.2"))})}});
  return r;
}

// A tiny CLI: xStatus SystemUnit, a truncated reply (stalls), a reply cut by
// a dropped connection, everything else "Unknown command".
class Cli {
 public:
  ssh::Reply handle(const std::string& line) {
    {
      std::lock_guard lock(mu_);
      seen_.push_back(line);
    }
    auto cmd = xacli::parse_command(line);
    if (!cmd) return xacli::format_reply(xacli::error_reply(cmd.error().message));
    if (cmd->is({"xStatus", "SystemUnit"})) return xacli::format_reply(system_unit_reply());
    std::string full = xacli::format_reply(system_unit_reply());
    std::string half = full.substr(0, full.size() / 2);
    if (cmd->is({"xStatus", "Stall"})) return half;
    if (cmd->is({"xStatus", "Die"})) return ssh::Reply(half, /*drop=*/true);
    return xacli::format_reply(xacli::error_reply("Unknown command"));
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
};

std::unique_ptr<ssh::Server> start_server(const std::string& key_file, Cli& cli,
                                          bool keyboard_interactive = false) {
  ssh::ServerOptions o;
  o.keyboard_interactive = keyboard_interactive;
  o.host_key_file = key_file;
  o.user = "admin";
  o.password = ssh::Secret(kPassword);
  o.banner = kBanner;
  o.handler = [&cli](const std::string& line) { return cli.handle(line); };
  auto server = ssh::Server::start(std::move(o));
  REQUIRE(server);
  return std::move(*server);
}

std::unique_ptr<ssh::Transport> client(
    int port, const std::string& known_hosts, bool trust, std::string password = kPassword,
    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  ssh::ClientOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.user = "admin";
  o.password = ssh::Secret(password);
  o.known_hosts_file = known_hosts;
  o.trust_new_host_key = trust;
  o.command_timeout = timeout;
  auto t = ssh::make_libssh_transport(std::move(o));
  REQUIRE(t);
  return std::move(*t);
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("ssh: a round trip: banner, commands, replies parsed by the wire layer, exit", "[ssh]") {
  testing::TempDir dir;
  Cli cli;
  auto server = start_server(dir.file("host_key"), cli);
  CHECK(server->port() > 0);
  CHECK(*default_env().file_mode(dir.file("host_key")) == 0600u);

  auto t = client(server->port(), dir.file("ssh/known_hosts"), /*trust=*/true);
  auto banner = t->banner();
  REQUIRE(banner);
  CHECK(*banner == kBanner);

  auto reply = t->run("xStatus SystemUnit");
  REQUIRE(reply);
  auto parsed = xacli::parse_reply(*reply, "xStatus SystemUnit");
  REQUIRE(parsed);
  CHECK(*parsed == system_unit_reply());

  const std::string write = *xacli::format_command(
      {{"xCommand", "ACME", "Settings", "Write"},
       {{"RenewalSchedule", R"({"DaysOfWeek":["Mon"],"TimeOfDay":"04:00"})", xacli::Quote::kSingle},
        {"Note", "two words"}}});
  auto unknown = t->run(write);
  REQUIRE(unknown);
  auto unknown_parsed = xacli::parse_reply(*unknown);
  REQUIRE(unknown_parsed);
  CHECK(*unknown_parsed == xacli::error_reply("Unknown command"));
  t->close();

  // The server saw each line exactly once, without line endings.
  CHECK(cli.seen() == std::vector<std::string>{"xStatus SystemUnit", write});
  // The host key was recorded, 0600, in a folder created for it.
  auto known = default_env().read_file(dir.file("ssh/known_hosts"), kTestRead);
  REQUIRE(known);
  CHECK(known->starts_with("[127.0.0.1]:" + std::to_string(server->port()) + " ssh-ed25519 "));
  CHECK(*default_env().file_mode(dir.file("ssh/known_hosts")) == 0600u);

  // A closed transport opens a new session on next use.
  auto again = t->run("xStatus SystemUnit");
  REQUIRE(again);
  CHECK(xacli::parse_reply(*again)->ok);
}

TEST_CASE("ssh: host keys are pinned: unknown refused, recorded on request, changed refused",
          "[ssh]") {
  testing::TempDir dir;
  Cli cli;
  auto server = start_server(dir.file("key1"), cli);
  const std::string known = dir.file("known_hosts");
  const std::string fp1 = server->host_key_fingerprint();
  REQUIRE(fp1.starts_with("SHA256:"));

  // First use without trust_new_host_key: refused, nothing recorded.
  auto refused = client(server->port(), known, false)->run("xStatus SystemUnit");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kPermission);
  CHECK(contains(refused.error().message, "host key " + fp1 + " is not pinned in " + known));
  CHECK(contains(refused.error().message, "--trust-new-host-key"));
  CHECK_FALSE(default_env().exists(known));
  CHECK(cli.seen().empty());

  // With it: recorded; afterwards the pin alone is enough.
  REQUIRE(client(server->port(), known, true)->banner());
  REQUIRE(client(server->port(), known, false)->run("xStatus SystemUnit"));
  // A restarted server keeps its key file, so its pin still matches.
  server->stop();
  server = start_server(dir.file("key1"), cli);
  CHECK(server->host_key_fingerprint() == fp1);

  // A server with another key where the pin says key1: refused, always,
  // naming both fingerprints. (The pin is moved to the new server's port.)
  auto other = start_server(dir.file("key2"), cli);
  const std::string fp2 = other->host_key_fingerprint();
  REQUIRE(fp2 != fp1);
  std::string line = *default_env().read_file(known, kTestRead);
  std::string old_host = line.substr(0, line.find(' '));
  REQUIRE(default_env().write_file_atomic(
      known, "[127.0.0.1]:" + std::to_string(other->port()) + line.substr(old_host.size()), 0600));
  for (bool trust : {false, true}) {
    auto changed = client(other->port(), known, trust)->run("xStatus SystemUnit");
    REQUIRE_FALSE(changed);
    CHECK(changed.error().code == ErrorCode::kPermission);
    CHECK(contains(changed.error().message, "HOST KEY CHANGED"));
    CHECK(contains(changed.error().message, "records " + fp1));
    CHECK(contains(changed.error().message, "presented " + fp2));
  }
  // Nothing was appended by the refused trusting attempt.
  CHECK(std::ranges::count(*default_env().read_file(known, kTestRead), '\n') == 1);
}

TEST_CASE("ssh: a wrong password is refused without showing any password", "[ssh]") {
  testing::TempDir dir;
  Cli cli;
  auto server = start_server(dir.file("host_key"), cli);
  auto r = client(server->port(), dir.file("known_hosts"), true, "wrong-Guess-77")
               ->run("xStatus SystemUnit");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kPermission);
  CHECK(contains(r.error().message, "admin@127.0.0.1:" + std::to_string(server->port())));
  CHECK(contains(r.error().message, "login refused"));
  CHECK_FALSE(contains(r.error().message, "wrong-Guess-77"));
  CHECK_FALSE(contains(r.error().message, kPassword));
  CHECK(cli.seen().empty());
}

TEST_CASE("ssh: a server that offers only keyboard-interactive gets the password there", "[ssh]") {
  testing::TempDir dir;
  Cli cli;
  auto server = start_server(dir.file("host_key"), cli, /*keyboard_interactive=*/true);
  auto reply = client(server->port(), dir.file("known_hosts"), true)->run("xStatus SystemUnit");
  INFO((reply ? std::string() : reply.error().message));
  REQUIRE(reply);
  CHECK(xacli::parse_reply(*reply)->ok);
  auto wrong = client(server->port(), dir.file("known_hosts"), false, "wrong-Guess-77")
                   ->run("xStatus SystemUnit");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == ErrorCode::kPermission);
  CHECK(contains(wrong.error().message, "login refused"));
  CHECK_FALSE(contains(wrong.error().message, "wrong-Guess-77"));
  CHECK(cli.seen() == std::vector<std::string>{"xStatus SystemUnit"});
}

TEST_CASE("ssh: a reply cut short names the command, never its argument values", "[ssh]") {
  testing::TempDir dir;
  Cli cli;
  auto server = start_server(dir.file("host_key"), cli);
  const std::string known = dir.file("known_hosts");

  // The server drops the connection mid-reply.
  auto t = client(server->port(), known, true);
  auto died = t->run("xStatus Die");
  REQUIRE_FALSE(died);
  CHECK(died.error().code == ErrorCode::kUnavailable);
  CHECK(contains(died.error().message,
                 "connection closed while waiting for the reply to "
                 "'xStatus Die'"));
  CHECK(contains(died.error().message, "no final OK/ERROR line"));
  // The transport recovers with a new session.
  REQUIRE(t->run("xStatus SystemUnit"));

  // The server stops writing without a final line: the command times out.
  auto slow = client(server->port(), known, false, kPassword, std::chrono::milliseconds(300));
  auto stalled = slow->run(R"(xStatus Stall Token: "do-not-print-me")");
  REQUIRE_FALSE(stalled);
  CHECK(stalled.error().code == ErrorCode::kUnavailable);
  CHECK(contains(stalled.error().message,
                 "timed out after 300 ms waiting for the reply to "
                 "'xStatus Stall'"));
  CHECK_FALSE(contains(stalled.error().message, "do-not-print-me"));
  CHECK(ssh::command_name(R"(xConfiguration SIP TLS Certificate Revocation Checking Mode: On)") ==
        "xConfiguration SIP TLS Certificate Revocation Checking");

  // A server that is stopped while a client is connected: the next command fails.
  auto open = client(server->port(), known, false);
  REQUIRE(open->banner());
  server->stop();
  auto gone = open->run("xStatus SystemUnit");
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("ssh: the server refuses exec requests", "[ssh]") {
  testing::TempDir dir;
  Cli cli;
  auto server = start_server(dir.file("host_key"), cli);
  ssh_session s = ssh_new();
  REQUIRE(s != nullptr);
  unsigned port = static_cast<unsigned>(server->port());
  bool no = false;
  ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
  ssh_options_set(s, SSH_OPTIONS_PORT, &port);
  ssh_options_set(s, SSH_OPTIONS_USER, "admin");
  REQUIRE(ssh_connect(s) == SSH_OK);
  REQUIRE(ssh_userauth_password(s, nullptr, kPassword) == SSH_AUTH_SUCCESS);
  ssh_channel c = ssh_channel_new(s);
  REQUIRE(ssh_channel_open_session(c) == SSH_OK);
  CHECK(ssh_channel_request_exec(c, "xStatus SystemUnit") != SSH_OK);
  ssh_channel_free(c);
  ssh_disconnect(s);
  ssh_free(s);
  CHECK(cli.seen().empty());
}

TEST_CASE("ssh: options that cannot work are refused before connecting", "[ssh]") {
  ssh::ClientOptions o;
  o.host = "127.0.0.1";
  o.user = "admin";
  auto no_pin = ssh::make_libssh_transport(std::move(o));
  REQUIRE_FALSE(no_pin);
  CHECK(no_pin.error().code == ErrorCode::kInvalidArgument);
  CHECK(contains(no_pin.error().message, "no known_hosts file given"));

  testing::TempDir dir;
  REQUIRE(default_env().write_file_atomic(dir.file("open_key"), "x", 0644));
  ssh::ServerOptions so;
  so.host_key_file = dir.file("open_key");
  so.user = "admin";
  so.password = ssh::Secret("p");
  so.handler = [](const std::string&) { return ssh::Reply("OK\r\n"); };
  auto open_key = ssh::Server::start(std::move(so));
  REQUIRE_FALSE(open_key);
  CHECK(contains(open_key.error().message, "readable by others (mode 644); chmod 600 it"));
}

TEST_CASE("ssh: Secret compares in full and is empty after a move", "[ssh]") {
  ssh::Secret a("pa55word");
  CHECK(a.equals("pa55word"));
  CHECK_FALSE(a.equals("pa55wore"));
  CHECK_FALSE(a.equals("pa55"));
  ssh::Secret b(std::move(a));
  CHECK(b.equals("pa55word"));
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the point of the check
  ssh::Secret c;
  c = std::move(b);
  CHECK(c.view() == "pa55word");
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
}
