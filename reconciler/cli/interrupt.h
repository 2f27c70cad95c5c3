// SIGINT and SIGTERM while a command runs.
//
// apply and revoke (kStop): the first signal only sets a flag; the engine
// sees it as a StopToken, finishes or abandons the action in flight, restores
// what it must, releases the lock, and the command exits 128 + the signal
// (130 for SIGINT, 143 for SIGTERM). A second signal exits at once (_exit):
// the journal stays readable (each entry is one fsynced line; a torn last line
// is dropped by readers), the lock stays for the next run to look at.
//
// plan and status (kExit): nothing to restore, so a signal exits at once with
// 128 + the signal and a line saying nothing was changed.
//
// The handlers are installed for the scope's lifetime only, without
// SA_RESTART so that a prompt blocked reading the terminal returns.
#pragma once

#include <string>

#include "reconciler/engine/cancel.h"

namespace edgecert {

class InterruptScope {
 public:
  enum class Mode { kStop, kExit };
  explicit InterruptScope(Mode mode);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // The flag as the engine sees it (its reason is the signal number).
  StopToken token() const;
  // The signal received (0: none).
  int signal() const;
  // 128 + the signal received, the shell's convention.
  int exit_code() const { return 128 + signal(); }
};

// A line the second interrupt's message ends with, naming what it leaves
// behind (apply over a fleet: the clusters running, whose locks stay); ""
// clears it, as does the end of the InterruptScope. At most 4 KiB is kept.
// Safe to call from any thread; the signal handler only reads a finished
// copy.
void set_interrupt_note(const std::string& text);

}  // namespace edgecert
