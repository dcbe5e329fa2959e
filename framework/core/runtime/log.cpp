#include <othrun/error.hpp>
#include <othrun/log.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace othrun::log {
namespace {
std::atomic<Level> current{Level::Info};
std::mutex output;
std::string prefix;  // set once at start-up, before any thread logs
}  // namespace

void set_level(Level level) { current = level; }
void set_prefix(std::string text) { prefix = std::move(text); }
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
  std::fprintf(stderr, "[%s] %s%.*s\n", names[static_cast<int>(level)], prefix.c_str(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace othrun::log
