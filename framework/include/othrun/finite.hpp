// Non-finite weights: a NaN or infinity in a loaded model, probe or SAE makes every result computed
// from it NaN, silently. Loaders call these to warn, naming the tensor and the file.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <othrun/tensor.hpp>

namespace othrun {

struct NonFinite {
  std::int64_t nan = 0;
  std::int64_t inf = 0;
  std::int64_t total() const { return nan + inf; }
};

NonFinite count_non_finite(std::span<const float> values);
// Floating dtypes only; integer and bool tensors have none.
NonFinite count_non_finite(const HostTensor& tensor);

// Logs a warning "FILE: tensor 'NAME' holds N NaN and M infinite values (of K)" when there are any,
// and returns the counts.
NonFinite warn_non_finite(std::span<const float> values, const std::string& name,
                          const std::string& file);
NonFinite warn_non_finite(const HostTensor& tensor, const std::string& name,
                          const std::string& file);

}  // namespace othrun
