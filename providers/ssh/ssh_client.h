// The CLI of a node over SSH, client side: a Transport interface so tests and
// the provider can fake it, and one libssh implementation. Nothing here knows
// the Expressway: the banner is read up to its `OK` line and a reply up to
// its final `OK` or `ERROR` line (the XACLI convention of providers/wire,
// which parses what comes back).
//
// Contract of the libssh Transport:
// - The session opens on first use: TCP connect (connect_timeout), SSH key
//   exchange, host-key check, password authentication (keyboard-interactive
//   when the server offers only that), one shell channel with a pty, the
//   banner read up to a line `OK`.
// - Host keys are pinned in `known_hosts_file` (OpenSSH format, read and
//   appended through Env; entries for a port other than 22 are written
//   `[host]:port`, hashed entries are understood). The key matches an entry:
//   go on. No entry for the host: kPermission with the key's SHA256
//   fingerprint, unless trust_new_host_key is set, which appends the key
//   (file created 0600) and goes on. An entry with another key (or another
//   key type): kPermission naming both fingerprints and the file, always.
// - run() sends one line (the line ending is options.line_ending) and returns
//   everything the node wrote after it, up to and including the final
//   `OK`/`ERROR` line. kUnavailable when no final line arrives within
//   command_timeout or the connection ends first; the message names the
//   command by its words before the first argument ("xCommand ACME Settings
//   Write"), never by its values.
// - Errors: kUnavailable for connection problems (cannot connect, dropped,
//   timed out), kPermission for host-key and login refusals. Messages name
//   host:port and the user and never contain the password.
// - Not thread-safe: one Transport is one CLI session.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/ssh/secret.h"

namespace edgecert::ssh {

class Transport {
 public:
  virtual ~Transport() = default;
  // The banner (up to and including its `OK` line), opening the session when
  // none is open.
  virtual Result<std::string> banner() = 0;
  // One command line (no line ending) and the reply to it, opening the
  // session when none is open.
  virtual Result<std::string> run(std::string_view command_line) = 0;
  // Sends `exit` and closes the session; the next call opens a new one.
  virtual void close() = 0;
};

struct ClientOptions {
  std::string host;  // name or address
  int port = 22;
  std::string user;
  Secret password;
  std::string known_hosts_file;  // required
  bool trust_new_host_key = false;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds command_timeout{60'000};
  std::string line_ending = "\r\n";
  std::string exit_command = "exit";
  Env* env = nullptr;  // known_hosts I/O; nullptr = default_env()
};

// kInvalidArgument for options that cannot work (no host, user or
// known_hosts_file; a port outside 1..65535). Connects lazily.
Result<std::unique_ptr<Transport>> make_libssh_transport(ClientOptions options);

// The command's name for messages: the words before the first `Name:`.
std::string command_name(std::string_view command_line);

}  // namespace edgecert::ssh
