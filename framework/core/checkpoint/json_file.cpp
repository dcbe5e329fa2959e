#include "checkpoint/json_file.hpp"

#include <othrun/error.hpp>

namespace othrun::checkpoint {

namespace {
constexpr int kMaxJsonDepth = 64;
}

nlohmann::json parse_json(std::span<const std::byte> text, const std::string& where) {
  const auto* begin = reinterpret_cast<const char*>(text.data());
  auto limit_depth = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) {
      throw DataError(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth));
    }
    return true;
  };
  try {
    return nlohmann::json::parse(begin, begin + text.size(), limit_depth);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(where + ": bad JSON: " + e.what());
  }
}

}  // namespace othrun::checkpoint
