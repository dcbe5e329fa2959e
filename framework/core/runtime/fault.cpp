#include "runtime/fault.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

#include <othrun/error.hpp>

namespace othrun::fault {
namespace {

struct Injection {
  std::string point;
  long occurrence = 1;
  std::string action;
};

Injection read_injection() {
  const char* value = std::getenv("OTHRUN_FAULT");
  if (!value) return {};
  Injection injection;
  std::string text = value;
  const auto colon = text.rfind(':');
  injection.action = colon == std::string::npos ? "kill" : text.substr(colon + 1);
  text = text.substr(0, colon);
  const auto hash = text.find('#');
  if (hash != std::string::npos) injection.occurrence = std::atol(text.c_str() + hash + 1);
  injection.point = text.substr(0, hash);
  return injection;
}

}  // namespace

void point(const char* name) {
  static const Injection injection = read_injection();
  static std::atomic<long> reached{0};
  if (injection.point.empty() || injection.point != name) return;
  if (++reached != injection.occurrence) return;
  if (injection.action == "kill") {
    std::raise(SIGKILL);
  } else if (injection.action == "int") {
    std::raise(SIGINT);
  } else if (injection.action == "fail") {
    throw Error(std::string("injected failure at '") + name + "' (OTHRUN_FAULT)");
  } else {
    throw Error("OTHRUN_FAULT: unknown action '" + injection.action + "' (kill, int or fail)");
  }
}

}  // namespace othrun::fault
