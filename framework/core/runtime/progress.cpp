#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/progress.hpp>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace othrun {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
  interrupted = true;
  // A second Ctrl-C ends the process at once.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

constexpr auto kTerminalRedraw = std::chrono::milliseconds(200);
constexpr auto kPlainLineEvery = std::chrono::seconds(10);

}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}
bool interrupt_requested() { return interrupted; }
void request_interrupt() { interrupted = true; }
void check_interrupt() {
  if (interrupted) throw Interrupted();
}

Progress::Progress(std::string what, std::uint64_t total, std::string unit)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      total_(total),
      terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (done_ > 0) draw(true);
}

void Progress::advance(std::uint64_t n) {
  done_ += n;
  check_interrupt();
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >=
      (terminal_ ? std::chrono::duration_cast<std::chrono::milliseconds>(kTerminalRedraw)
                 : std::chrono::duration_cast<std::chrono::milliseconds>(kPlainLineEvery))) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::draw(bool final) {
  if (log::level() > log::Level::Info) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
  const double fraction = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::fprintf(stderr, "\r%s [%-*s] %3.0f%% %llu/%llu %s %.0f/s%s", what_.c_str(), kWidth,
                 std::string(static_cast<size_t>(std::min(filled, kWidth)), '#').c_str(),
                 100 * fraction, static_cast<unsigned long long>(done_),
                 static_cast<unsigned long long>(total_), unit_.c_str(), rate, final ? "\n" : "");
  } else if (!final) {
    log::info("{}: {}/{} {} ({:.0f}%, {:.0f}/s)", what_, done_, total_, unit_, 100 * fraction,
              rate);
  }
}

}  // namespace othrun
