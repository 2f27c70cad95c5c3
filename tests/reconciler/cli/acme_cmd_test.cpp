// `edgecert acme issue` in-process against a real Pebble.
#include <catch2/catch.hpp>

#include <map>

#include "providers/pki/certificate.h"
#include "providers/pki/key.h"
#include "tests/providers/acme/pebble_process.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::PebbleOptions;
using edgecert::testing::PebbleProcess;
using edgecert::testing::TempDir;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// The real machine, except for the environment variables the test sets, and
// relative paths land in `cwd` (so the default NAME.key/NAME.crt do not
// litter the test's working directory).
class VarsEnv final : public Env {
 public:
  VarsEnv(std::map<std::string, std::string> vars, std::string cwd = ".")
      : vars_(std::move(vars)), cwd_(std::move(cwd)) {}
  Status write_file_atomic(const std::string& p, const std::string& d, unsigned m) override {
    return real_.write_file_atomic(at(p), d, m);
  }
  Status create_exclusive(const std::string& p, const std::string& d, unsigned m) override {
    return real_.create_exclusive(at(p), d, m);
  }
  Status append_file(const std::string& p, const std::string& d, unsigned m) override {
    return real_.append_file(at(p), d, m);
  }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& p) override {
    return real_.lock_file(at(p));
  }
  bool exists(const std::string& p) override { return real_.exists(at(p)); }
  bool is_directory(const std::string& p) override { return real_.is_directory(at(p)); }
  Result<std::vector<std::string>> list_dir(const std::string& p) override {
    return real_.list_dir(at(p));
  }
  Status create_dirs(const std::string& p, unsigned m) override {
    return real_.create_dirs(at(p), m);
  }
  Status remove_file(const std::string& p) override { return real_.remove_file(at(p)); }
  Result<unsigned> file_mode(const std::string& p) override { return real_.file_mode(at(p)); }
  TimePoint now() override { return real_.now(); }
  void sleep_for(std::chrono::milliseconds d) override { real_.sleep_for(d); }
  std::optional<std::string> get_env(const std::string& name) override {
    auto it = vars_.find(name);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  }

 protected:
  Result<std::string> do_read_file(const std::string& p, std::uint64_t max) override {
    return forward_read_file(real_, at(p), max);
  }

 private:
  std::string at(const std::string& p) const { return path_resolve(cwd_, p); }
  Env& real_ = default_env();
  std::map<std::string, std::string> vars_;
  std::string cwd_;
};

std::vector<std::string> issue_args(const PebbleProcess& p, std::vector<std::string> extra) {
  std::vector<std::string> args = {"acme",
                                   "issue",
                                   "--directory",
                                   p.directory_url(),
                                   "--email",
                                   "ops@example.test",
                                   "--ca-bundle",
                                   p.ca_bundle(),
                                   "--http01-listen",
                                   "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("acme issue: key, chain and summary, the account key is created once and reused",
          "[reconciler][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  TempDir dir;
  Env& env = default_env();
  std::string account = dir.file("acct/account.key");
  auto r = testing::run_cli(issue_args(
      pebble, {"--account-key", account, "--key-out", dir.file("out/a.key"), "--cert-out",
               dir.file("out/a.pem"), "a.example.test", "B.example.test"}));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Issued a.example.test, b.example.test"));
  CHECK(contains(r.out, "serial:"));
  CHECK(contains(r.out, "notAfter:"));
  CHECK(contains(r.out, "took:"));
  CHECK_FALSE(contains(r.out + r.err, "PRIVATE KEY"));

  CHECK(*env.file_mode(dir.file("out/a.key")) == 0600);
  CHECK(*env.file_mode(account) == 0600);
  auto key = pki::PrivateKey::parse(*env.read_file(dir.file("out/a.key"), kTestRead), "a.key");
  REQUIRE(key);
  auto chain = pki::load_certificates(env, dir.file("out/a.pem"), kTestRead);
  REQUIRE(chain);
  REQUIRE(chain->size() == 2);
  CHECK(key->matches(chain->front()));
  CHECK(chain->front().subject_cn() == "a.example.test");
  CHECK(chain->front().subject_alt_names().dns.size() == 2);
  CHECK(contains(r.out, chain->front().serial_hex()));

  std::string account_before = *env.read_file(account, kTestRead);
  auto again = testing::run_cli(
      issue_args(pebble, {"--account-key", account, "--key-out", dir.file("out/c.key"),
                          "--cert-out", dir.file("out/c.pem"), "c.example.test"}));
  INFO(again.out << again.err);
  REQUIRE(again.status == 0);
  CHECK(*env.read_file(account, kTestRead) == account_before);

  // An existing key is never replaced, and the account key is no --key-out.
  std::string key_before = *env.read_file(dir.file("out/a.key"), kTestRead);
  auto clash = testing::run_cli(
      issue_args(pebble, {"--account-key", account, "--key-out", dir.file("out/a.key"),
                          "--cert-out", dir.file("out/d.pem"), "d.example.test"}));
  CHECK(clash.status == 1);
  CHECK(contains(clash.err, "never overwrites a private key"));
  CHECK(*env.read_file(dir.file("out/a.key"), kTestRead) == key_before);
  CHECK_FALSE(env.exists(dir.file("out/d.pem")));
  auto onto_account =
      testing::run_cli(issue_args(pebble, {"--account-key", account, "--key-out", account,
                                           "--cert-out", dir.file("out/e.pem"), "e.example.test"}));
  CHECK(onto_account.status == 1);
  CHECK(contains(onto_account.err, "--key-out is the account key file"));
  CHECK(*env.read_file(account, kTestRead) == account_before);
}

TEST_CASE("acme issue: default paths (XDG_STATE_HOME, else HOME, NAME.key, NAME.crt)",
          "[reconciler][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  PebbleProcess pebble(PebbleOptions{});
  TempDir dir;
  SECTION("XDG_STATE_HOME") {
    VarsEnv env({{"XDG_STATE_HOME", dir.file("xdg")}, {"HOME", dir.file("home")}});
    auto r = testing::run_cli(issue_args(pebble, {"--key-out", dir.file("k.key"), "--cert-out",
                                                  dir.file("k.crt"), "x.example.test"}),
                              &env);
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(*env.file_mode(dir.file("xdg/edgecert/acme/account.key")) == 0600);
    CHECK_FALSE(env.exists(dir.file("home/.local/state/edgecert/acme/account.key")));
  }
  SECTION("HOME; key and chain named after the first name") {
    VarsEnv env({{"HOME", dir.file("home")}}, dir.path());
    auto r = testing::run_cli(issue_args(pebble, {"y.example.test"}), &env);
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(*env.file_mode(dir.file("home/.local/state/edgecert/acme/account.key")) == 0600);
    CHECK(contains(r.out, "chain:     y.example.test.crt"));
    CHECK(*env.file_mode(dir.file("y.example.test.key")) == 0600);
    CHECK(default_env().exists(dir.file("y.example.test.crt")));
  }
  SECTION("neither") {
    VarsEnv env({});
    auto r = testing::run_cli(issue_args(pebble, {"z.example.test"}), &env);
    CHECK(r.status == 1);
    CHECK(contains(r.err, "--account-key"));
  }
}

TEST_CASE("acme issue: external account binding from a file", "[reconciler][acme][pebble]") {
  if (!testing::can_run_pebble()) return;
  const std::string hmac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
  PebbleOptions po;
  po.eab_keys["kid-3"] = hmac;
  PebbleProcess pebble(po);
  TempDir dir;
  std::string hmac_file = dir.write("eab.txt", hmac + "\n");
  const std::vector<std::string> base = {"--account-key", dir.file("acct.key"),
                                         "--key-out",     dir.file("e.key"),
                                         "--cert-out",    dir.file("e.crt")};
  std::vector<std::string> without(base);
  without.push_back("e.example.test");
  auto refused = testing::run_cli(issue_args(pebble, without));
  CHECK(refused.status == 1);
  CHECK(contains(refused.err, "external account binding"));

  std::vector<std::string> with(base);
  with.insert(with.end(),
              {"--eab-kid", "kid-3", "--eab-hmac-from", "file:" + hmac_file, "e.example.test"});
  auto r = testing::run_cli(issue_args(pebble, with));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK_FALSE(contains(r.out + r.err + refused.err, hmac));
}

TEST_CASE("acme issue: bad input and server errors are reported, nothing written",
          "[reconciler][acme]") {
  TempDir dir;
  auto base = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"acme",
                                     "issue",
                                     "--directory",
                                     "https://127.0.0.1:1/dir",
                                     "--email",
                                     "ops@example.test",
                                     "--account-key",
                                     dir.file("acct.key"),
                                     "--key-out",
                                     dir.file("k.key"),
                                     "--cert-out",
                                     dir.file("k.crt"),
                                     "--http01-listen",
                                     "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::run_cli(args);
  };
  auto wildcard = base({"*.example.test"});
  CHECK(wildcard.status == 1);
  CHECK(contains(wildcard.err, "wildcard"));

  auto ip = base({"192.0.2.1"});
  CHECK(ip.status == 1);

  auto inline_key = base({"--eab-kid", "k", "--eab-hmac-from", "c2VjcmV0", "a.example.test"});
  CHECK(inline_key.status == 1);
  CHECK(contains(inline_key.err, "env:VAR or file:PATH"));
  CHECK_FALSE(contains(inline_key.err, "c2VjcmV0"));

  auto both = base({"--webroot", dir.path(), "a.example.test"});
  CHECK(both.status == 1);

  auto down = base({"a.example.test"});
  CHECK(down.status == 1);
  CHECK(contains(down.err, "edgecert: error: acme issue: acme issuer https://127.0.0.1:1/dir"));
  CHECK_FALSE(default_env().exists(dir.file("k.key")));
  CHECK_FALSE(default_env().exists(dir.file("k.crt")));
}
