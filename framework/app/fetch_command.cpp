#include "fetch_command.hpp"

#include <iostream>

#include <othrun/error.hpp>
#include <othrun/log.hpp>
#include <othrun/progress.hpp>

#include "fetch/fetch.hpp"
#include "runtime/runner.hpp"

namespace othrun {
namespace {

constexpr const char* kUsage =
    "Usage: othrun fetch [--cached] REF...\n\n"
    "Downloads each reference into the cache and prints its local file, one per line.\n"
    "REF: hf://ORG/REPO/PATH[@REVISION], hf://datasets/ORG/REPO/PATH[@REVISION],\n"
    "     https://HOST/PATH[#sha256:HEX]\n"
    "  --cached   only look in the cache (no network); exit 1 if a file is not there\n"
    "Environment: HF_HUB_CACHE, HF_HOME, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE (docs/fetch.md).\n";

}  // namespace

int run_fetch_command(const std::vector<std::string>& args) {
  bool cached_only = false;
  std::vector<fetch::Reference> refs;
  for (const auto& arg : args) {
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (arg == "--cached") {
      cached_only = true;
      continue;
    }
    try {
      refs.push_back(fetch::parse_reference(arg));
    } catch (const fetch::FetchError& error) {
      std::cerr << "othrun fetch: " << error.what() << "\n";
      return kExitInvalid;
    }
  }
  if (refs.empty()) {
    std::cerr << "othrun fetch: no reference given\n" << kUsage;
    return kExitInvalid;
  }
  install_interrupt_handler();
  int exit_code = kExitOk;
  try {
    const fetch::Settings settings = fetch::settings_from_environment();
    for (const auto& ref : refs) {
      try {
        if (cached_only) {
          auto found = fetch::find_cached(ref, settings);
          if (!found) throw fetch::FetchError(ref.to_string() + ": not in the cache");
          std::cout << found->path.string() << "\n";
        } else {
          const fetch::Fetched fetched = fetch::fetch(ref, settings);
          log::info("{}: {}{}", fetched.reference,
                    fetched.commit.empty() ? "" : "commit " + fetched.commit + ", ",
                    "sha256 " + fetched.sha256);
          std::cout << fetched.path.string() << "\n";
        }
      } catch (const fetch::FetchError& error) {
        std::cerr << "othrun fetch: " << error.what() << "\n";
        exit_code = kExitFailed;
      }
    }
  } catch (const Interrupted&) {
    std::cerr << "othrun fetch: interrupted; a partial download is kept and resumes next time\n";
    return kExitInterrupted;
  } catch (const fetch::FetchError& error) {  // the settings
    std::cerr << "othrun fetch: " << error.what() << "\n";
    return kExitInvalid;
  }
  return exit_code;
}

}  // namespace othrun
