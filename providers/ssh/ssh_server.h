// A CLI served over SSH (libssh's server API), for the simulator: password
// login, one shell channel with a pty per connection, one command per line
// handed to a callback, its reply written back. Nothing here knows the
// Expressway: the banner and the command handler are parameters.
//
// Contract:
// - Listens on bind_address:port (port 0: a free port, see port()). The host
//   key is an OpenSSH private key file read through Env; when missing, an
//   Ed25519 key is generated and written with mode 0600 (O_EXCL). A key file
//   readable by group or others is refused, as sshd does.
// - Only password authentication, for `user` with `password` (compared in
//   constant time); three failed attempts end the connection. Public-key and
//   "none" are refused. With keyboard_interactive the password is asked for
//   through one keyboard-interactive prompt instead (as appliances that log
//   in through PAM do), and the "password" method is refused.
// - Session channels: pty and shell requests are granted; exec and subsystem
//   requests are refused. When the shell opens, `banner` is written as it is.
// - Input lines end with CR, LF or CRLF; blank lines are ignored; a line equal
//   to exit_command (any case) closes the channel; every other line goes to
//   the handler and its Reply::text is written back as it is (nothing is
//   echoed). Reply::disconnect drops the connection right after the text (a
//   node dying mid-reply, for tests).
// - One thread per connection: the handler is called concurrently from
//   several threads and must be thread-safe.
// - stop() (and the destructor) closes the listener and every connection and
//   joins the threads; it is idempotent.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/ssh/secret.h"

namespace edgecert::ssh {

struct Reply {
  Reply(std::string t) : text(std::move(t)) {}  // NOLINT: a reply is usually just text
  Reply(const char* t) : text(t) {}             // NOLINT
  Reply(std::string t, bool drop) : text(std::move(t)), disconnect(drop) {}
  std::string text;
  bool disconnect = false;
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;
  std::string host_key_file;  // required
  std::string user;           // required
  Secret password;            // required
  std::string banner;
  std::function<Reply(const std::string& command_line)> handler;  // required
  std::string exit_command = "exit";
  bool keyboard_interactive = false;
  Env* env = nullptr;  // host key I/O; nullptr = default_env()
};

class Server {
 public:
  // Listening when it returns. kInvalidArgument for missing options, kIo for
  // the host key file, kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<Server>> start(ServerOptions options);

  virtual ~Server() = default;
  virtual int port() const = 0;
  // "SHA256:<base64>" of the host key, as clients print it.
  virtual std::string host_key_fingerprint() const = 0;
  virtual void stop() = 0;
};

}  // namespace edgecert::ssh
