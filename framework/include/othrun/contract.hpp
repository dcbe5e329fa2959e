// Product contracts: what a step's product will hold, declared before anything runs, and how a
// step names a dataset of an earlier product.
//
//   - DatasetDecl: one dataset a plugin promises to write (name inside the product, dtype, axes,
//     and for cached activations the hook and the position range). A plugin declares them in
//     describe() (Schema::dataset) or, when they depend on its config, in a static
//     `produces(const Config&)`; `othrun --check` resolves every input against them and the host
//     checks after the step ran that each one was written.
//   - InputRef: the value of an input parameter, "LABEL" or "LABEL:DATASET"
//     (`activations: cache:blocks.6.hook_resid_pre`). A hook in DATASET may be shorthand
//     (cache:resid_pre.6); validation stores the full name.
//   - PositionRange: the one syntax for a range of model positions, a Python slice "first:stop"
//     ("5:54", ":54", "5:") or "all".
#pragma once

#include <othrun/dtype.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace othrun {

// Positions [begin, stop) of the model input; stop -1: to the last position.
struct PositionRange {
  std::int64_t begin = 0;
  std::int64_t stop = -1;

  bool all() const { return begin == 0 && stop < 0; }
  // The canonical text: "all", "5:54", "5:".
  std::string to_string() const;
  // Whether [begin, stop) lies within `outer` (a stop of -1 extends to the end).
  bool within(const PositionRange& outer) const;
  bool operator==(const PositionRange&) const = default;
};

// Parses "all" or "first:stop" (Python slice, no negative numbers, not empty). Throws
// othrun::Error with a message naming the text and the expected form.
PositionRange parse_position_range(const std::string& text);

// One dataset of a product, as its plugin declares it.
struct DatasetDecl {
  std::string name;  // path inside the product ("blocks.6.hook_resid_pre", "accuracy/per_square")
  DType dtype = DType::Float32;
  std::string axes;  // comma-separated axis names, e.g. "game,pos,d_model"
  std::string doc;
  std::string hook;  // the hook a cached activation holds; "" for other datasets
  std::optional<PositionRange> positions;  // of a cached activation: the model positions kept

  bool is_activation() const { return !hook.empty(); }
};

using DatasetDecls = std::vector<DatasetDecl>;

// The dataset named `name` in `decls`, or null.
const DatasetDecl* find_dataset(const DatasetDecls& decls, const std::string& name);

// The value of an input parameter: the product's label and, after ':', one of its datasets.
struct InputRef {
  std::string label;
  std::string dataset;  // "" when the value names only the product
  std::string to_string() const { return dataset.empty() ? label : label + ":" + dataset; }
};
InputRef parse_input_ref(const std::string& value);

}  // namespace othrun
