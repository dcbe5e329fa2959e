#include <othrun/finite.hpp>
#include <othrun/log.hpp>

#include <cmath>

namespace othrun {
namespace {

template <class T>
NonFinite count(const T* data, std::int64_t n) {
  NonFinite found;
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::isnan(data[i])) {
      ++found.nan;
    } else if (std::isinf(data[i])) {
      ++found.inf;
    }
  }
  return found;
}

void warn(const NonFinite& found, std::int64_t numel, const std::string& name,
          const std::string& file) {
  if (found.total() == 0) return;
  log::warn(
      "{}: tensor '{}' holds {} NaN and {} infinite values (of {}); results computed from it "
      "will not be finite",
      file, name, found.nan, found.inf, numel);
}

}  // namespace

NonFinite count_non_finite(std::span<const float> values) {
  return count(values.data(), static_cast<std::int64_t>(values.size()));
}

NonFinite count_non_finite(const HostTensor& tensor) {
  switch (tensor.dtype()) {
    case DType::Float64: {
      const HostTensor c = tensor.contiguous();
      return count(c.data_as<double>(), c.numel());
    }
    case DType::Float32:
    case DType::Float16:
    case DType::BFloat16: {
      // float16/bfloat16 NaN and infinity stay NaN and infinity in float32.
      const HostTensor c =
          tensor.dtype() == DType::Float32 ? tensor.contiguous() : tensor.to_float32();
      return count(c.data_as<float>(), c.numel());
    }
    default:
      return {};
  }
}

NonFinite warn_non_finite(std::span<const float> values, const std::string& name,
                          const std::string& file) {
  const NonFinite found = count_non_finite(values);
  warn(found, static_cast<std::int64_t>(values.size()), name, file);
  return found;
}

NonFinite warn_non_finite(const HostTensor& tensor, const std::string& name,
                          const std::string& file) {
  const NonFinite found = count_non_finite(tensor);
  warn(found, tensor.numel(), name, file);
  return found;
}

}  // namespace othrun
