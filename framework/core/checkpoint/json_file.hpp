// JSON parsing for untrusted checkpoint headers and configs: errors become DataError, nesting is
// bounded (nlohmann's parser itself is iterative, but what walks the result afterwards recurses).
#pragma once

#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace othrun::checkpoint {

nlohmann::json parse_json(std::span<const std::byte> text, const std::string& where);

}  // namespace othrun::checkpoint
