#include "providers/ssh/ssh_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <list>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "providers/ssh/ssh_internal.h"

namespace edgecert::ssh {

namespace {

constexpr int kMaxAuthAttempts = 3;
// Key exchange, login and opening the shell must each finish within this.
constexpr long kHandshakeTimeoutSeconds = 30;
// How often a shell waiting for input checks for stop().
constexpr int kShellPollMs = 500;

// Whether the connection is still up. libssh closes the socket when the peer
// goes away, and a later blocking call then polls the closed descriptor (-1)
// forever; so every blocking call below is preceded by this check.
bool alive(ssh_session s) {
  return ssh_get_fd(s) != SSH_INVALID_SOCKET &&
         (ssh_get_status(s) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0;
}

// The command of one input line: without surrounding blanks.
std::string command_of(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(line.substr(first, line.find_last_not_of(" \t") - first + 1));
}

bool is_exit(std::string_view command, std::string_view exit_command) {
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  return std::ranges::equal(command, exit_command, {}, lower, lower);
}

struct MessageFree {
  void operator()(ssh_message m) const { ssh_message_free(m); }
};
using MessagePtr = std::unique_ptr<std::remove_pointer_t<ssh_message>, MessageFree>;

// The host key: read, or generated and written 0600 on first start.
Result<KeyPtr> load_host_key(Env& env, const std::string& path) {
  auto data = env.read_file(path, read_limits::kKey);
  if (!data && data.error().code == ErrorCode::kNotFound) {
    ssh_key raw = nullptr;
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) != SSH_OK)
      return Error::Internal("SSH server: cannot generate an Ed25519 host key");
    KeyPtr key(raw);
    char* b64 = nullptr;
    if (ssh_pki_export_privkey_base64(key.get(), nullptr, nullptr, nullptr, &b64) != SSH_OK)
      return Error::Internal("SSH server: cannot export the generated host key");
    std::string pem(b64);
    explicit_bzero(b64, pem.size());
    ssh_string_free_char(b64);
    auto st = env.create_exclusive(path, pem, 0600);
    explicit_bzero(pem.data(), pem.size());
    if (!st && st.error().code != ErrorCode::kAlreadyExists)
      return Error::Io(
          fmt::format("SSH server: cannot write host key {}: {}", path, st.error().message));
    data = env.read_file(path, read_limits::kKey);  // another process may have won the race
  }
  if (!data)
    return Error::Io(
        fmt::format("SSH server: cannot read host key {}: {}", path, data.error().message));
  auto mode = env.file_mode(path);
  if (mode && (*mode & 077) != 0)
    return Error::Permission(fmt::format(
        "SSH server: host key {} is readable by others (mode {:o}); chmod 600 it", path, *mode));
  ssh_key raw = nullptr;
  int rc = ssh_pki_import_privkey_base64(data->c_str(), nullptr, nullptr, nullptr, &raw);
  explicit_bzero(data->data(), data->size());
  if (rc != SSH_OK)
    return Error::Corrupt(
        fmt::format("SSH server: host key {} is not an unencrypted private key", path));
  return KeyPtr(raw);
}

class ServerImpl : public Server {
 public:
  explicit ServerImpl(ServerOptions o) : o_(std::move(o)) {}
  ~ServerImpl() override { stop(); }

  Status listen(KeyPtr key) {
    fingerprint_ = fingerprint(key.get());
    bind_ = ssh_bind_new();
    if (bind_ == nullptr) return Error::Internal("SSH server: cannot create a listener");
    bool no = false;
    unsigned port = static_cast<unsigned>(o_.port);
    if (ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_BINDADDR, o_.bind_address.c_str()) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_BINDPORT, &port) != SSH_OK)
      return Error::InvalidArgument(
          fmt::format("SSH server: bad listener option: {}", ssh_get_error(bind_)));
    // IMPORT_KEY hands the key to the listener, which frees it.
    if (ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_IMPORT_KEY, key.get()) != SSH_OK)
      return Error::Internal(
          fmt::format("SSH server: cannot use the host key: {}", ssh_get_error(bind_)));
    (void)key.release();
    if (ssh_bind_listen(bind_) != SSH_OK)
      return Error::Unavailable(fmt::format("SSH server: cannot listen on {}:{}: {}",
                                            o_.bind_address, o_.port, ssh_get_error(bind_)));
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(ssh_bind_get_fd(bind_), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return Error::Io("SSH server: cannot read the listening port");
    port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (pipe2(wake_, O_CLOEXEC) != 0) return Error::Io("SSH server: cannot create a wake-up pipe");
    acceptor_ = std::thread([this] { accept_loop(); });
    return {};
  }

  int port() const override { return port_; }
  std::string host_key_fingerprint() const override { return fingerprint_; }

  void stop() override {
    if (stopped_.exchange(true)) return;
    if (wake_[1] >= 0) {
      char c = 'x';
      (void)!write(wake_[1], &c, 1);
    }
    if (acceptor_.joinable()) acceptor_.join();
    {
      std::lock_guard lock(mu_);
      // Wakes every session thread blocked in a read: its reads fail.
      for (auto& c : connections_)
        if (c->session != nullptr) shutdown(ssh_get_fd(c->session), SHUT_RDWR);
    }
    for (auto& c : connections_)
      if (c->thread.joinable()) c->thread.join();
    connections_.clear();
    if (bind_ != nullptr) ssh_bind_free(bind_);
    bind_ = nullptr;
    for (int& fd : wake_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }

 private:
  struct Connection {
    ssh_session session = nullptr;  // guarded by mu_ (set to nullptr before freeing)
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop() {
    while (!stopped_) {
      pollfd fds[2] = {{ssh_bind_get_fd(bind_), POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;
      if ((fds[1].revents & POLLIN) != 0 || stopped_) return;
      if ((fds[0].revents & POLLIN) == 0) continue;
      ssh_session session = ssh_new();
      if (session == nullptr) continue;
      long timeout_s = kHandshakeTimeoutSeconds;
      ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout_s);
      if (ssh_bind_accept(bind_, session) != SSH_OK) {
        ssh_free(session);
        continue;
      }
      reap();
      std::lock_guard lock(mu_);
      auto conn = std::make_unique<Connection>();
      conn->session = session;
      Connection* c = conn.get();
      conn->thread = std::thread([this, c] { serve(c); });
      connections_.push_back(std::move(conn));
    }
  }

  // Joins the threads of finished connections (a long-running simulator
  // would otherwise keep one per past connection).
  void reap() {
    std::lock_guard lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done) {
        (*it)->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void serve(Connection* c) {
    ssh_session s = c->session;
    ssh_channel channel = nullptr;
    if (ssh_handle_key_exchange(s) == SSH_OK && authenticate(s)) {
      channel = open_shell(s);
      if (channel != nullptr) run_shell(s, channel);
    }
    if (channel != nullptr) ssh_channel_free(channel);
    {
      std::lock_guard lock(mu_);
      c->session = nullptr;
    }
    ssh_disconnect(s);
    ssh_free(s);
    c->done = true;
  }

  // Whether user and password are right; both compared in full so timing
  // says nothing about which one failed.
  bool credentials_ok(const char* user, const char* password) const {
    bool user_ok = user != nullptr && o_.user == user;
    bool password_ok = password != nullptr && o_.password.equals(password);
    return user_ok && password_ok;
  }

  bool authenticate(ssh_session s) {
    const int method =
        o_.keyboard_interactive ? SSH_AUTH_METHOD_INTERACTIVE : SSH_AUTH_METHOD_PASSWORD;
    int failures = 0;
    std::string kbdint_user;  // the user of the keyboard-interactive round
    while (failures < kMaxAuthAttempts && alive(s)) {
      MessagePtr m(ssh_message_get(s));
      if (!m) return false;
      if (ssh_message_type(m.get()) == SSH_REQUEST_AUTH && ssh_message_subtype(m.get()) == method) {
        const char* user = ssh_message_auth_user(m.get());
        const char* password = nullptr;
        if (method == SSH_AUTH_METHOD_INTERACTIVE) {
          if (ssh_message_auth_kbdint_is_response(m.get()) == 0) {
            // First round: ask for the password (not echoed), as an appliance
            // does. The answer's message names no user: remember it.
            kbdint_user = user != nullptr ? user : "";
            const char* prompts[] = {"Password: "};
            char echo[] = {0};
            ssh_message_auth_interactive_request(m.get(), "", "", 1, prompts, echo);
            continue;
          }
          user = kbdint_user.c_str();
          if (ssh_userauth_kbdint_getnanswers(s) == 1)
            password = ssh_userauth_kbdint_getanswer(s, 0);
        } else {
          // libssh 0.10 marks the message API's password getter deprecated in
          // favour of server callbacks; this server uses the blocking message
          // API throughout (one thread per connection), which 0.10 still ships.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
          password = ssh_message_auth_password(m.get());
#pragma GCC diagnostic pop
        }
        if (credentials_ok(user, password)) {
          ssh_message_auth_reply_success(m.get(), 0);
          return true;
        }
        ++failures;
      }
      ssh_message_auth_set_methods(m.get(), method);
      ssh_message_reply_default(m.get());
    }
    return false;
  }

  ssh_channel open_shell(ssh_session s) {
    ssh_channel channel = nullptr;
    while (alive(s)) {
      MessagePtr m(ssh_message_get(s));
      if (!m) break;
      int type = ssh_message_type(m.get());
      int subtype = ssh_message_subtype(m.get());
      if (channel == nullptr && type == SSH_REQUEST_CHANNEL_OPEN &&
          subtype == SSH_CHANNEL_SESSION) {
        channel = ssh_message_channel_request_open_reply_accept(m.get());
        if (channel == nullptr) break;
        continue;
      }
      if (channel != nullptr && type == SSH_REQUEST_CHANNEL) {
        if (subtype == SSH_CHANNEL_REQUEST_PTY || subtype == SSH_CHANNEL_REQUEST_WINDOW_CHANGE ||
            subtype == SSH_CHANNEL_REQUEST_ENV) {
          ssh_message_channel_request_reply_success(m.get());
          continue;
        }
        if (subtype == SSH_CHANNEL_REQUEST_SHELL) {
          ssh_message_channel_request_reply_success(m.get());
          return channel;
        }
      }
      // exec, subsystem, forwarding, a second channel: refused.
      ssh_message_reply_default(m.get());
    }
    if (channel != nullptr) ssh_channel_free(channel);
    return nullptr;
  }

  static bool write_all(ssh_channel channel, std::string_view text) {
    while (!text.empty()) {
      int n = ssh_channel_write(channel, text.data(), static_cast<uint32_t>(text.size()));
      if (n <= 0) return false;
      text.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void run_shell(ssh_session s, ssh_channel channel) {
    if (!o_.banner.empty() && !write_all(channel, o_.banner)) return;
    std::string line;
    bool after_cr = false;
    char buf[4096];
    while (!stopped_ && alive(s)) {
      int n = ssh_channel_read_timeout(channel, buf, sizeof buf, 0, kShellPollMs);
      if (n == 0 && ssh_channel_is_eof(channel) == 0 && ssh_channel_is_open(channel) != 0)
        continue;          // nothing yet
      if (n <= 0) return;  // EOF, error or stop()
      for (int i = 0; i < n; ++i) {
        char ch = buf[i];
        if (ch == '\n' && after_cr) {
          after_cr = false;
          continue;
        }
        after_cr = ch == '\r';
        if (ch != '\r' && ch != '\n') {
          line += ch;
          continue;
        }
        std::string command = command_of(line);
        line.clear();
        if (command.empty()) continue;
        if (is_exit(command, o_.exit_command)) {
          ssh_channel_send_eof(channel);
          ssh_channel_close(channel);
          return;
        }
        Reply reply = o_.handler(command);
        if (!write_all(channel, reply.text)) return;
        if (reply.disconnect) {
          // Drop the TCP connection without an SSH goodbye: the client sees
          // the reply end mid-way.
          shutdown(ssh_get_fd(s), SHUT_RDWR);
          return;
        }
      }
    }
  }

  ServerOptions o_;
  ssh_bind bind_ = nullptr;
  int port_ = 0;
  std::string fingerprint_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopped_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  if (options.host_key_file.empty())
    return Error::InvalidArgument("SSH server: no host key file given");
  if (options.user.empty() || options.password.empty())
    return Error::InvalidArgument("SSH server: a user and a password are required");
  if (!options.handler) return Error::InvalidArgument("SSH server: no command handler given");
  if (options.port < 0 || options.port > 65535)
    return Error::InvalidArgument(
        fmt::format("SSH server: port {} is not 0 to 65535", options.port));
  Env& env = options.env != nullptr ? *options.env : default_env();
  auto key = load_host_key(env, options.host_key_file);
  if (!key) return key.error();
  auto server = std::make_unique<ServerImpl>(std::move(options));
  if (auto st = server->listen(std::move(*key)); !st) return st.error();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace edgecert::ssh
