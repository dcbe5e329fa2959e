#include <othrun/contract.hpp>
#include <othrun/error.hpp>

#include <charconv>
#include <string_view>

namespace othrun {

namespace {

std::string range_help(const std::string& text) {
  return "positions '" + text +
         "': expected 'all' or a Python slice \"first:stop\" of non-negative positions, stop "
         "excluded (e.g. \"5:54\", \":54\", \"5:\")";
}

std::int64_t bound(std::string_view part, std::int64_t empty_value, const std::string& text) {
  if (part.empty()) return empty_value;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
  if (ec != std::errc() || end != part.data() + part.size() || value < 0 || value > 1'000'000) {
    throw Error(range_help(text));
  }
  return value;
}

}  // namespace

std::string PositionRange::to_string() const {
  if (all()) return "all";
  return std::to_string(begin) + ":" + (stop < 0 ? "" : std::to_string(stop));
}

bool PositionRange::within(const PositionRange& outer) const {
  if (begin < outer.begin) return false;
  if (outer.stop < 0) return true;
  return stop >= 0 && stop <= outer.stop;
}

PositionRange parse_position_range(const std::string& text) {
  if (text == "all") return {};
  const auto colon = text.find(':');
  if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos) {
    throw Error(range_help(text));
  }
  const std::string_view view(text);
  PositionRange range{bound(view.substr(0, colon), 0, text),
                      bound(view.substr(colon + 1), -1, text)};
  if (range.stop >= 0 && range.stop <= range.begin) {
    throw Error("positions '" + text + "' is an empty range (stop " + std::to_string(range.stop) +
                " is not after first " + std::to_string(range.begin) + ")");
  }
  return range;
}

const DatasetDecl* find_dataset(const DatasetDecls& decls, const std::string& name) {
  for (const auto& decl : decls) {
    if (decl.name == name) return &decl;
  }
  return nullptr;
}

InputRef parse_input_ref(const std::string& value) {
  const auto colon = value.find(':');
  if (colon == std::string::npos) return {value, ""};
  return {value.substr(0, colon), value.substr(colon + 1)};
}

}  // namespace othrun
