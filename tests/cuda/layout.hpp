// Test helpers: the CUDA/host forward returns hooks in the store layout; the references use
// TransformerLens' (attention maps [batch, head, query, key]).
#pragma once

#include <othrun/tensor.hpp>

#include <string>

namespace othrun::test {

// Attention scores/patterns [batch, query, head, key] -> [batch, head, query, key]; others as is.
inline HostTensor to_transformer_lens_layout(const std::string& name, const HostTensor& t) {
  const bool map =
      name.size() >= 16 && (name.ends_with("hook_attn_scores") || name.ends_with("hook_pattern"));
  if (!map) return t;
  const auto& s = t.shape();
  const auto& st = t.strides();
  return HostTensor(t.dtype(), {s[0], s[2], s[1], s[3]}, {st[0], st[2], st[1], st[3]}, t.offset(),
                    t.storage())
      .contiguous();
}

}  // namespace othrun::test
