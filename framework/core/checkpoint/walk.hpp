// Depth-first walk over a PyValue tree with dotted member paths, shared by flatten_tensors and
// inspect_file.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include <othrun/pth.hpp>

namespace othrun::checkpoint {

// Called with each value and its path ("" for the root); returns whether to visit its members.
using ValueVisitor = std::function<bool(const std::string& path, const PyValue& value)>;

// Members are dict items (key text: a str as is, an int in decimal, else its repr), list, tuple and
// set elements (index), and an object's constructor args (index), entries and attributes. Shared
// subtrees are visited once per path, so a hostile tree of shared references could make paths
// explode: the walk throws DataError past `max_visits`.
void walk_values(const PyValue& root, const ValueVisitor& visit, std::size_t max_visits = 1u << 22);

// The text a dict key contributes to a path.
std::string key_text(const PyValue& key);

}  // namespace othrun::checkpoint
