// An edgecert-sim child process for tests: spawned on free loopback ports
// (port 0; the chosen ports are read from its stdout), stopped with SIGTERM
// when the object goes away. Its stderr goes to a file, so tests can check
// what the server logged.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "providers/sim/sim_node.h"

extern char** environ;

namespace edgecert::testing {

struct SimProcessOptions {
  std::string state_dir;
  std::vector<std::pair<std::string, std::string>> nodes;  // name, fqdn
  std::string password_file;
  std::string stderr_file;  // "" = /dev/null
  std::vector<std::string> extra_args;
  // One SSH listener per node (--ssh NAME=127.0.0.1:0): the CLI interface.
  bool ssh = true;
};

class SimProcess {
 public:
  explicit SimProcess(const SimProcessOptions& o) : nodes_(o.nodes), state_dir_(o.state_dir) {
    std::vector<std::string> args = {EDGECERT_SIM_BINARY, "--state", o.state_dir, "--password-file",
                                     o.password_file};
    for (const auto& [name, fqdn] : o.nodes) {
      args.push_back("--node");
      args.push_back(name + "=127.0.0.1:0");
      args.push_back("--fqdn");
      args.push_back(name + "=" + fqdn);
      if (o.ssh) {
        args.push_back("--ssh");
        args.push_back(name + "=127.0.0.1:0");
      }
    }
    for (const auto& a : o.extra_args) args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int fds[2];
    REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    std::string err = o.stderr_file.empty() ? std::string("/dev/null") : o.stderr_file;
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    REQUIRE(rc == 0);

    // Read "NAME listening on HOST:PORT" lines until "edgecert-sim ready".
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool ready = false;
    while (!ready && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[512];
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      ready = out.find("edgecert-sim ready\n") != std::string::npos;
    }
    close(fds[0]);
    INFO("edgecert-sim stdout: " << out);
    REQUIRE(ready);
    // "NAME listening on HOST:PORT" and "NAME ssh listening on HOST:PORT".
    size_t pos = 0;
    while ((pos = out.find(" listening on ", pos)) != std::string::npos) {
      size_t start = out.rfind('\n', pos);
      start = start == std::string::npos ? 0 : start + 1;
      size_t end = out.find('\n', pos);
      std::string name = out.substr(start, pos - start);
      std::string addr = out.substr(pos + 14, end - pos - 14);
      const int port = std::stoi(addr.substr(addr.rfind(':') + 1));
      if (name.size() > 4 && name.ends_with(" ssh")) {
        ssh_ports_[name.substr(0, name.size() - 4)] = port;
      } else {
        ports_[name] = port;
      }
      pos = end;
    }
  }

  ~SimProcess() { stop(); }
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  // SIGTERM, then wait (SIGKILL after 10 s). Returns the exit status.
  int stop() {
    if (pid_ <= 0) return status_;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 1000; ++i) {
      pid_t r = waitpid(pid_, &status_, WNOHANG);
      if (r == pid_) {
        pid_ = 0;
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = 0;
    return status_;
  }

  int port(const std::string& name) const {
    auto it = ports_.find(name);
    REQUIRE(it != ports_.end());
    return it->second;
  }
  std::string endpoint(const std::string& name) const {
    return "https://127.0.0.1:" + std::to_string(port(name));
  }

  int ssh_port(const std::string& name) const {
    auto it = ssh_ports_.find(name);
    REQUIRE(it != ssh_ports_.end());
    return it->second;
  }

  // Spec lines for the peers ("    - {name: ..., fqdn: ..., endpoint: ..., ssh: ...}").
  std::string peers_yaml() const {
    std::string out;
    for (const auto& [name, fqdn] : nodes_) {
      out += "    - {name: " + name + ", fqdn: " + fqdn + ", endpoint: \"" + endpoint(name) + "\"";
      if (ssh_ports_.count(name) != 0)
        out += ", ssh: \"127.0.0.1:" + std::to_string(ssh_ports_.at(name)) + "\"";
      out += "}\n";
    }
    return out;
  }

  // Pins every node's SSH host key in `known_hosts` (OpenSSH format, the
  // lines an operator's first `--trust-new-host-key` run records), read from
  // the key files edgecert-sim keeps in its state folder.
  void pin_host_keys(const std::string& known_hosts) const {
    std::string lines;
    for (const auto& [name, port] : ssh_ports_) {
      const std::string key = state_dir_ + "/" + name + ".ssh_host_key";
      std::string cmd = "ssh-keygen -y -f '" + key + "' 2>&1";
      std::string pub;
      FILE* p = popen(cmd.c_str(), "r");
      REQUIRE(p != nullptr);
      char buf[4096];
      while (size_t n = fread(buf, 1, sizeof buf, p)) pub.append(buf, n);
      INFO("ssh-keygen -y: " << pub);
      REQUIRE(pclose(p) == 0);
      lines += "[127.0.0.1]:" + std::to_string(port) + " " + pub;
      if (!lines.ends_with('\n')) lines += '\n';
    }
    std::string dir = known_hosts.substr(0, known_hosts.rfind('/'));
    REQUIRE(std::system(("mkdir -p '" + dir + "'").c_str()) == 0);
    FILE* f = fopen(known_hosts.c_str(), "w");
    REQUIRE(f != nullptr);
    fwrite(lines.data(), 1, lines.size(), f);
    fclose(f);
  }

  // The CAs the nodes trust now (PEM): at first, the factory CAs their admin
  // interfaces' certificates chain to — what a management caBundle needs.
  std::string trusted_cas_pem(Env& env) const {
    std::string out;
    for (const auto& [name, fqdn] : nodes_) {
      sim::SimNode node(env, state_dir_, name, fqdn);
      auto st = node.read_state();
      REQUIRE(st);
      for (const auto& c : st->trusted_cas) out += c.to_pem();
    }
    return out;
  }

 private:
  pid_t pid_ = 0;
  int status_ = 0;
  std::map<std::string, int> ports_;
  std::map<std::string, int> ssh_ports_;
  std::vector<std::pair<std::string, std::string>> nodes_;
  std::string state_dir_;
};

}  // namespace edgecert::testing
