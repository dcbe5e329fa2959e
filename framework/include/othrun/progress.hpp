// Progress of a long loop: a redrawn bar on a terminal, a plain line every few seconds otherwise.
// Advancing also checks for Ctrl-C, so a loop that reports progress is interruptible.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace othrun {

class Progress {
 public:
  Progress(std::string what, std::uint64_t total, std::string unit = "");
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  // Adds `n` finished units; throws othrun::Interrupted after Ctrl-C.
  void advance(std::uint64_t n = 1);
  std::uint64_t done() const { return done_; }

 private:
  void draw(bool final);

  std::string what_;
  std::string unit_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// Ctrl-C handling. The host installs the handler; long loops call check_interrupt().
void install_interrupt_handler();
bool interrupt_requested();
void check_interrupt();    // throws othrun::Interrupted
void request_interrupt();  // for tests

}  // namespace othrun
