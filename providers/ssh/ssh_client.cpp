#include "providers/ssh/ssh_client.h"

#include <libssh/libssh.h>

#include <optional>

#include <fmt/format.h>

#include "providers/ssh/ssh_internal.h"

namespace edgecert::ssh {

namespace {

using Clock = std::chrono::steady_clock;

// "[host]:port" as known_hosts writes a non-default port, "host" for 22.
std::string known_hosts_name(const std::string& host, int port) {
  return port == 22 ? host : fmt::format("[{}]:{}", host, port);
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
}

class LibsshTransport : public Transport {
 public:
  explicit LibsshTransport(ClientOptions o)
      : o_(std::move(o)),
        env_(o_.env != nullptr ? *o_.env : default_env()),
        where_(fmt::format("{}@{}:{}", o_.user, o_.host, o_.port)) {}
  ~LibsshTransport() override { close(); }

  Result<std::string> banner() override {
    if (auto st = open(); !st) return st.error();
    return banner_;
  }

  Result<std::string> run(std::string_view command_line) override {
    if (auto st = open(); !st) return st.error();
    std::string name = command_name(command_line);
    std::string line = std::string(command_line) + o_.line_ending;
    if (ssh_channel_write(channel_, line.data(), static_cast<uint32_t>(line.size())) !=
        static_cast<int>(line.size())) {
      Error e = Error::Unavailable(
          fmt::format("SSH {}: cannot send '{}': {}", where_, name, ssh_get_error(session_)));
      drop();
      return e;
    }
    auto reply = read_until_final(fmt::format("the reply to '{}'", name), /*error_ends=*/true);
    if (!reply) drop();
    return reply;
  }

  void close() override {
    if (channel_ != nullptr && ssh_channel_is_open(channel_) != 0) {
      std::string line = o_.exit_command + o_.line_ending;
      ssh_channel_write(channel_, line.data(), static_cast<uint32_t>(line.size()));
      ssh_channel_send_eof(channel_);
      ssh_channel_close(channel_);
    }
    // ssh_disconnect frees the session's channels: free ours first.
    if (channel_ != nullptr) ssh_channel_free(channel_);
    channel_ = nullptr;
    if (session_ != nullptr && ssh_is_connected(session_) != 0) ssh_disconnect(session_);
    drop();
  }

 private:
  void drop() {
    if (channel_ != nullptr) ssh_channel_free(channel_);
    channel_ = nullptr;
    if (session_ != nullptr) ssh_free(session_);
    session_ = nullptr;
    pending_.clear();
    banner_.clear();
  }

  Status open() {
    if (session_ != nullptr) return {};
    auto st = connect();
    if (!st) drop();
    return st;
  }

  Status connect() {
    session_ = ssh_new();
    if (session_ == nullptr) return Error::Internal("SSH: cannot create a libssh session");
    // Only what the options say: no ~/.ssh/config, no system known_hosts.
    bool no = false;
    long timeout_s = std::max<long>(
        1, static_cast<long>(std::chrono::ceil<std::chrono::seconds>(o_.connect_timeout).count()));
    unsigned port = static_cast<unsigned>(o_.port);
    if (ssh_options_set(session_, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
        ssh_options_set(session_, SSH_OPTIONS_HOST, o_.host.c_str()) != SSH_OK ||
        ssh_options_set(session_, SSH_OPTIONS_PORT, &port) != SSH_OK ||
        ssh_options_set(session_, SSH_OPTIONS_USER, o_.user.c_str()) != SSH_OK ||
        ssh_options_set(session_, SSH_OPTIONS_TIMEOUT, &timeout_s) != SSH_OK ||
        ssh_options_set(session_, SSH_OPTIONS_KNOWNHOSTS, o_.known_hosts_file.c_str()) != SSH_OK ||
        ssh_options_set(session_, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, o_.known_hosts_file.c_str()) !=
            SSH_OK)
      return Error::InvalidArgument(
          fmt::format("SSH {}: bad option: {}", where_, ssh_get_error(session_)));
    if (ssh_connect(session_) != SSH_OK)
      return Error::Unavailable(
          fmt::format("SSH {}: cannot connect: {}", where_, ssh_get_error(session_)));
    if (auto st = check_host_key(); !st) return st;
    if (auto st = authenticate(); !st) return st;
    channel_ = ssh_channel_new(session_);
    if (channel_ == nullptr || ssh_channel_open_session(channel_) != SSH_OK ||
        ssh_channel_request_pty(channel_) != SSH_OK ||
        ssh_channel_request_shell(channel_) != SSH_OK)
      return Error::Unavailable(fmt::format("SSH {}: cannot open a shell with a terminal: {}",
                                            where_, ssh_get_error(session_)));
    auto banner = read_until_final("the banner's OK line", /*error_ends=*/false);
    if (!banner) return banner.error();
    banner_ = std::move(*banner);
    return {};
  }

  Status check_host_key() {
    ssh_key raw = nullptr;
    if (ssh_get_server_publickey(session_, &raw) != SSH_OK)
      return Error::Unavailable(fmt::format("SSH {}: the server sent no host key", where_));
    KeyPtr key(raw);
    const std::string presented = fingerprint(key.get());
    const std::string name = known_hosts_name(o_.host, o_.port);
    auto file = env_.read_file(o_.known_hosts_file, read_limits::kState);
    if (!file && file.error().code != ErrorCode::kNotFound)
      return Error::Io(fmt::format("SSH {}: cannot read known hosts file {}: {}", where_,
                                   o_.known_hosts_file, file.error().message));
    std::optional<std::string> recorded;  // fingerprint of a different recorded key
    std::string_view text = file ? std::string_view(*file) : std::string_view();
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string line(text.substr(0, nl));
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (line.empty() || line[0] == '#' || line[0] == '@') continue;
      ssh_knownhosts_entry* raw_entry = nullptr;
      if (ssh_known_hosts_parse_line(name.c_str(), line.c_str(), &raw_entry) != SSH_OK ||
          raw_entry == nullptr)
        continue;
      EntryPtr entry(raw_entry);
      if (entry->publickey == nullptr) continue;
      if (ssh_key_cmp(entry->publickey, key.get(), SSH_KEY_CMP_PUBLIC) == 0) return {};
      if (!recorded) recorded = fingerprint(entry->publickey);
    }
    if (recorded)
      return Error::Permission(fmt::format(
          "SSH {}: HOST KEY CHANGED: {} records {} for {}, the server presented {}; refusing to "
          "connect. If the node was reinstalled or its key replaced, check the new fingerprint "
          "on the node's console and remove the old line for {} from {}; otherwise someone may "
          "be intercepting the connection",
          where_, o_.known_hosts_file, *recorded, name, presented, name, o_.known_hosts_file));
    if (!o_.trust_new_host_key)
      return Error::Permission(fmt::format(
          "SSH {}: host key {} is not pinned in {}; check that fingerprint on the node, then "
          "allow recording a new host key (trust_new_host_key, edgecert --trust-new-host-key)",
          where_, presented, o_.known_hosts_file));
    char* entry_line = nullptr;
    if (ssh_session_export_known_hosts_entry(session_, &entry_line) != SSH_OK ||
        entry_line == nullptr)
      return Error::Internal(fmt::format("SSH {}: cannot format a known_hosts entry: {}", where_,
                                         ssh_get_error(session_)));
    std::string entry_text(entry_line);
    ssh_string_free_char(entry_line);
    if (!entry_text.ends_with('\n')) entry_text += '\n';
    if (std::string dir = parent_dir(o_.known_hosts_file);
        !dir.empty() && !env_.is_directory(dir)) {
      if (auto st = env_.create_dirs(dir, 0700); !st) return st.error();
    }
    if (auto st = env_.append_file(o_.known_hosts_file, entry_text, 0600); !st)
      return Error::Io(fmt::format("SSH {}: cannot record host key in {}: {}", where_,
                                   o_.known_hosts_file, st.error().message));
    return {};
  }

  Status authenticate() {
    Error refused = Error::Permission(fmt::format(
        "SSH {}: login refused (wrong user or password, or the account may not use SSH)", where_));
    int rc = ssh_userauth_none(session_, nullptr);
    if (rc == SSH_AUTH_SUCCESS) return {};
    if (rc == SSH_AUTH_ERROR) return auth_error();
    int methods = ssh_userauth_list(session_, nullptr);
    if ((methods & SSH_AUTH_METHOD_PASSWORD) != 0) {
      rc = ssh_userauth_password(session_, nullptr, o_.password.c_str());
      if (rc == SSH_AUTH_SUCCESS) return {};
      if (rc == SSH_AUTH_ERROR) return auth_error();
      return refused;
    }
    if ((methods & SSH_AUTH_METHOD_INTERACTIVE) != 0) {
      // Answer every prompt with the password (the appliance asks once).
      rc = ssh_userauth_kbdint(session_, nullptr, nullptr);
      for (int round = 0; rc == SSH_AUTH_INFO && round < 3; ++round) {
        int prompts = ssh_userauth_kbdint_getnprompts(session_);
        for (int i = 0; i < prompts; ++i)
          ssh_userauth_kbdint_setanswer(session_, static_cast<unsigned>(i), o_.password.c_str());
        rc = ssh_userauth_kbdint(session_, nullptr, nullptr);
      }
      if (rc == SSH_AUTH_SUCCESS) return {};
      if (rc == SSH_AUTH_ERROR) return auth_error();
      return refused;
    }
    return Error::Permission(fmt::format(
        "SSH {}: the server offers neither password nor keyboard-interactive login", where_));
  }

  Error auth_error() {
    return Error::Unavailable(
        fmt::format("SSH {}: login failed: {}", where_, ssh_get_error(session_)));
  }

  // Reads until a line `OK` (or, when error_ends, `ERROR`); returns the text
  // up to and including that line and keeps anything after it.
  Result<std::string> read_until_final(const std::string& what, bool error_ends) {
    // The banner comes with the connection; a reply within the command's time.
    const std::chrono::milliseconds budget = error_ends ? o_.command_timeout : o_.connect_timeout;
    const auto deadline = Clock::now() + budget;
    std::string buf = std::move(pending_);
    pending_.clear();
    size_t scanned = 0;  // start of the first line not yet checked
    char chunk[4096];
    while (true) {
      for (size_t nl; (nl = buf.find('\n', scanned)) != std::string::npos; scanned = nl + 1) {
        std::string_view line(buf.data() + scanned, nl - scanned);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
        if (line == "OK" || (error_ends && line == "ERROR")) {
          pending_ = buf.substr(nl + 1);
          buf.resize(nl + 1);
          return buf;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0)
        return Error::Unavailable(
            fmt::format("SSH {}: timed out after {} ms waiting for {} "
                        "({} bytes received, no final OK/ERROR line)",
                        where_, budget.count(), what, buf.size()));
      int n =
          ssh_channel_read_timeout(channel_, chunk, sizeof chunk, 0,
                                   static_cast<int>(std::min<long long>(left.count(), 1'000'000)));
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n == SSH_ERROR || ssh_channel_is_eof(channel_) != 0 || ssh_channel_is_open(channel_) == 0)
        return Error::Unavailable(fmt::format(
            "SSH {}: connection closed while waiting for {} ({} bytes received, no final "
            "OK/ERROR line)",
            where_, what, buf.size()));
    }
  }

  ClientOptions o_;
  Env& env_;
  std::string where_;
  ssh_session session_ = nullptr;
  ssh_channel channel_ = nullptr;
  std::string banner_;
  std::string pending_;
};

}  // namespace

std::string command_name(std::string_view line) {
  size_t colon = line.find(':');
  std::string_view head = line.substr(0, colon);
  if (colon != std::string_view::npos) {
    // Drop the argument name before the colon.
    while (!head.empty() && head.back() != ' ' && head.back() != '\t') head.remove_suffix(1);
  }
  while (!head.empty() && (head.back() == ' ' || head.back() == '\t')) head.remove_suffix(1);
  while (!head.empty() && (head.front() == ' ' || head.front() == '\t')) head.remove_prefix(1);
  if (head.size() > 80) head = head.substr(0, 80);
  return std::string(head);
}

Result<std::unique_ptr<Transport>> make_libssh_transport(ClientOptions options) {
  if (options.host.empty()) return Error::InvalidArgument("SSH: no host given");
  if (options.user.empty())
    return Error::InvalidArgument(fmt::format("SSH {}: no user given", options.host));
  if (options.port < 1 || options.port > 65535)
    return Error::InvalidArgument(
        fmt::format("SSH {}: port {} is not 1 to 65535", options.host, options.port));
  if (options.known_hosts_file.empty())
    return Error::InvalidArgument(fmt::format(
        "SSH {}: no known_hosts file given (host keys are always pinned)", options.host));
  return std::unique_ptr<Transport>(new LibsshTransport(std::move(options)));
}

}  // namespace edgecert::ssh
