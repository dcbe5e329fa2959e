// "Did you mean" suggestions for unknown keys and names.
#pragma once

#include <string>
#include <vector>

namespace othrun {

// The candidates closest to `word` by edit distance, best first, within a distance that still
// makes sense for its length; empty when nothing is close.
std::vector<std::string> nearest(const std::string& word,
                                 const std::vector<std::string>& candidates,
                                 size_t max_results = 3);

// "a, b, c" (or "none").
std::string join_list(const std::vector<std::string>& items);

}  // namespace othrun
