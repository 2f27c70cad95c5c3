// acme-bench-measure: the timing and memory probe of bench/acme/run.
//
//   acme-bench-measure free-port
//       prints a loopback TCP port that was free a moment ago
//   acme-bench-measure run LOG -- COMMAND [ARG...]
//       runs COMMAND with stdin from /dev/null and stdout+stderr appended to
//       LOG, then prints "<wall seconds> <peak RSS KiB> <exit status>"
//
// Why not GNU time: its wall clock has 10 ms resolution, a tenth of what is
// being measured. The peak RSS is the child's ru_maxrss from wait4 (the
// largest resident set of the process; a client that forks helpers is
// measured by its largest process).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 1;
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  std::printf("%d\n", ntohs(a.sin_port));
  return 0;
}

int run(const char* log, char** argv) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    return 1;
  }
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    execvp(argv[0], argv);
    std::fprintf(stderr, "acme-bench-measure: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) {
    std::perror("wait4");
    return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::printf("%.4f %ld %d\n", seconds, ru.ru_maxrss, code);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "free-port") return free_port();
  if (argc >= 5 && std::string(argv[1]) == "run" && std::string(argv[3]) == "--")
    return run(argv[2], argv + 4);
  std::fprintf(stderr,
               "usage: acme-bench-measure free-port\n"
               "       acme-bench-measure run LOG -- COMMAND [ARG...]\n");
  return 2;
}
