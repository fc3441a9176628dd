// SigintGuard: Ctrl-C as a request to stop training cleanly. While a guard lives, SIGINT sets a
// flag instead of killing the process; fit() checks the flag after every batch and stops there,
// before anything of the unfinished epoch reaches a callback (so no checkpoint is written for
// it). The destructor restores the handler that was installed before, so Ctrl-C outside fit()
// behaves as the program decided. A second guard inside the first (a nested fit) works the same.
#pragma once

#include <csignal>

namespace minicnn {

class SigintGuard {
 public:
  SigintGuard() : previous_(std::signal(SIGINT, &SigintGuard::handle)) { flag() = 0; }
  ~SigintGuard() {
    if (previous_ != SIG_ERR) std::signal(SIGINT, previous_);
  }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

  // True once SIGINT arrived while this guard was installed.
  bool interrupted() const { return flag() != 0; }

 private:
  // A handler may only write a volatile sig_atomic_t (C++17 [support.signal]).
  static volatile std::sig_atomic_t& flag() {
    static volatile std::sig_atomic_t raised = 0;
    return raised;
  }
  static void handle(int) { flag() = 1; }

  using Handler = void (*)(int);
  Handler previous_;
};

}  // namespace minicnn
