#include <othrun/error.hpp>
#include <othrun/log.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>

namespace othrun::log {
namespace {
std::atomic<Level> current{Level::Info};
std::mutex output;
}  // namespace

void set_level(Level level) { current = level; }
Level level() { return current; }

Level parse_level(std::string_view text) {
  if (text == "debug") return Level::Debug;
  if (text == "info") return Level::Info;
  if (text == "warn") return Level::Warn;
  if (text == "error") return Level::Error;
  throw Error("unknown log level '" + std::string(text) + "' (allowed: debug, info, warn, error)");
}

void write(Level level, std::string_view message) {
  static const char* const names[] = {"debug", "info", "warn", "error"};
  std::lock_guard lock(output);
  std::fprintf(stderr, "[%s] %.*s\n", names[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
}

}  // namespace othrun::log
