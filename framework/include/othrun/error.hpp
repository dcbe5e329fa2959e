// Exceptions that othrun and its plugins throw. Every message names what was being read or done.
#pragma once

#include <stdexcept>
#include <string>

namespace othrun {

// Base of every othrun error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A step's parameter is wrong. Thrown by a plugin's validate(); the host adds file:line, step and
// plugin, so the message only says what is wrong with `key`.
class ConfigError : public Error {
 public:
  ConfigError(std::string key, const std::string& message) : Error(message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// An input file (npy, checkpoint, HDF5, ...) is malformed. The message names the file and the
// place.
class DataError : public Error {
 public:
  using Error::Error;
};

// The user pressed Ctrl-C; the host discards the step in progress and keeps finished ones.
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupted") {}
};

}  // namespace othrun
