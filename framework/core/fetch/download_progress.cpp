#include "fetch/download_progress.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>

#include <othrun/log.hpp>

namespace othrun::fetch {
namespace {

constexpr auto kTerminalRedraw = std::chrono::milliseconds(250);
constexpr auto kPlainLineEvery = std::chrono::seconds(10);
// No bar for downloads that finish before this: a bar that flashes by says nothing.
constexpr auto kQuiet = std::chrono::seconds(1);

}  // namespace

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 4) {
    bytes /= 1000;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[unit]);
}

std::string human_duration(double seconds) {
  const auto total = static_cast<long long>(seconds + 0.5);
  if (total >= 3600)
    return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

DownloadProgress::DownloadProgress(std::string name, std::uint64_t total, std::uint64_t already)
    : name_(std::move(name)),
      total_(total),
      start_bytes_(already),
      done_(already),
      terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

DownloadProgress::~DownloadProgress() {
  if (drawn_) draw(true);
}

void DownloadProgress::set_done(std::uint64_t bytes) {
  done_ = bytes;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < kQuiet) return;
  const auto every = terminal_
                         ? std::chrono::duration_cast<std::chrono::milliseconds>(kTerminalRedraw)
                         : std::chrono::duration_cast<std::chrono::milliseconds>(kPlainLineEvery);
  if (drawn_ && now - last_draw_ < every) return;
  last_draw_ = now;
  draw(false);
}

void DownloadProgress::draw(bool final) {
  if (log::level() > log::Level::Info) return;
  drawn_ = true;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_ - start_bytes_) / seconds : 0.0;
  std::string text = name_ + ": " + human_bytes(static_cast<double>(done_));
  if (total_ > 0) {
    text += fmt::format(" of {} ({:.0f}%)", human_bytes(static_cast<double>(total_)),
                        100.0 * static_cast<double>(done_) / static_cast<double>(total_));
  }
  text += ", " + human_bytes(rate) + "/s";
  if (total_ > done_ && rate > 0) {
    text += ", " + human_duration(static_cast<double>(total_ - done_) / rate) + " left";
  }
  if (terminal_) {
    std::fprintf(stderr, "\r%-78s%s", text.c_str(), final ? "\n" : "");
  } else if (!final) {
    log::info("{}", text);
  }
}

}  // namespace othrun::fetch
