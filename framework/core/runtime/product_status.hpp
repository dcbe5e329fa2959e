// Whether each product of a store is still what its inputs would give: `othrun --status` and the
// report's stale marks.
#pragma once

#include <string>
#include <vector>

namespace othrun {

class Store;

struct ProductStatus {
  enum class State { Complete, Stale, Failed, Missing };
  std::string label;
  State state = State::Complete;
  bool in_store = false;            // a complete product file exists (Failed may keep an older one)
  std::vector<std::string> inputs;  // labels of the products it read
  std::string reason;               // why it is not complete
};

const char* to_string(ProductStatus::State state);

// Every product of the store, every step of its last run and every product named as an input,
// sorted by label. A product is stale when a product it read has been rerun or removed since, when
// a file it read has different content now, or when a product it read is itself stale; failed when
// the last run's step failed (an older product may be kept); missing when it is named but absent.
std::vector<ProductStatus> store_status(const Store& store);

}  // namespace othrun
