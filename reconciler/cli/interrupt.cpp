#include "reconciler/cli/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>

namespace edgecert {
namespace {

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

// Written only by the handler (and reset by the scope); read by the engine.
std::atomic<int> g_signal{0};
std::atomic<int> g_mode{0};  // InterruptScope::Mode
struct sigaction g_old_int;
struct sigaction g_old_term;

// What a second interrupt adds to its message (set_interrupt_note): two
// buffers, the handler reads the one `g_note` names, a writer fills the
// other and then flips it, so the handler never reads a half-written text.
constexpr size_t kNoteBytes = 4096;
char g_notes[2][kNoteBytes];
std::atomic<int> g_note{-1};  // -1: no note
std::mutex g_note_mu;         // writers only

void say(const char* text) {
  // write(2) is async-signal-safe; a short or failed write only loses the line.
  ssize_t n = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)n;
}

extern "C" void on_signal(int sig) {
  if (g_mode.load() == static_cast<int>(InterruptScope::Mode::kExit)) {
    say("\nedgecert: interrupted; nothing was changed\n");
    ::_exit(128 + sig);
  }
  int none = 0;
  if (!g_signal.compare_exchange_strong(none, sig)) {
    say("\nedgecert: second interrupt: exiting at once. The journal is consistent; the cluster "
        "lock stays: run 'edgecert status SPEC', then 'edgecert force-unlock ID SPEC' and "
        "'edgecert apply SPEC' to resume\n");
    if (int note = g_note.load(); note >= 0) {
      say(g_notes[note]);
      say("\n");
    }
    ::_exit(128 + sig);
  }
  say("\nedgecert: interrupt received: finishing the current step, then restoring TLS "
      "verification where safe and releasing the lock (interrupt again to exit at once)\n");
}

}  // namespace

InterruptScope::InterruptScope(Mode mode) {
  g_signal.store(0);
  g_mode.store(static_cast<int>(mode));
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a prompt's read(2) returns EINTR
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptScope::~InterruptScope() {
  set_interrupt_note("");
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
}

void set_interrupt_note(const std::string& text) {
  std::lock_guard<std::mutex> lock(g_note_mu);
  if (text.empty()) {
    g_note.store(-1);
    return;
  }
  const int next = g_note.load() == 0 ? 1 : 0;
  const size_t n = std::min(text.size(), kNoteBytes - 1);
  std::memcpy(g_notes[next], text.data(), n);
  g_notes[next][n] = '\0';
  g_note.store(next);
}

StopToken InterruptScope::token() const {
  return StopToken(&g_signal);
}

int InterruptScope::signal() const {
  return g_signal.load();
}

}  // namespace edgecert
