// Leveled logging to stderr. The level is set once by the host (`othrun --log-level`).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace othrun::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void set_level(Level level);
Level level();
// Parses "debug", "info", "warn", "error"; throws othrun::Error otherwise.
Level parse_level(std::string_view text);
void write(Level level, std::string_view message);
// Written before every message, e.g. "rank 2: " on the ranks of an MPI run other than rank 0.
void set_prefix(std::string prefix);

template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (level() <= Level::Debug)
    write(Level::Debug, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (level() <= Level::Info) write(Level::Info, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  if (level() <= Level::Warn) write(Level::Warn, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::Error, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace othrun::log
