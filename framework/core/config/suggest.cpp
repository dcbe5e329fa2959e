#include "config/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace othrun {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<std::string> nearest(const std::string& word,
                                 const std::vector<std::string>& candidates, size_t max_results) {
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    const size_t distance = edit_distance(word, candidate);
    const bool prefix = candidate.rfind(word, 0) == 0 || word.rfind(candidate, 0) == 0;
    if (distance <= limit || (prefix && std::min(word.size(), candidate.size()) >= 3)) {
      scored.emplace_back(distance, candidate);
    }
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> result;
  for (const auto& [distance, candidate] : scored) {
    if (result.size() == max_results) break;
    result.push_back(candidate);
  }
  return result;
}

std::string join_list(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

}  // namespace othrun
