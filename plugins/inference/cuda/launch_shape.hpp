// Grid and block sizes of the forward's kernels (kernels.cu), plain C++ so the host tests check
// them: element-wise kernels take one thread per element, row kernels (LayerNorm, softmax) one
// 32-lane warp per row. A grid past CUDA's 2^31 - 1 blocks is an error, not a silent wrap.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace othrun::cuda_gpt {

inline constexpr int kWarpSize = 32;
inline constexpr int kThreadsPerBlock = 256;
inline constexpr int kWarpsPerBlock = kThreadsPerBlock / kWarpSize;

struct LaunchShape {
  unsigned blocks = 0;
  unsigned threads = 0;
};

inline LaunchShape blocks_of(std::int64_t items, int per_block) {
  const std::int64_t blocks = (items + per_block - 1) / per_block;
  if (items < 0 || blocks > 2147483647) {
    throw std::length_error("CUDA launch of " + std::to_string(items) +
                            " items exceeds the grid limit");
  }
  return {static_cast<unsigned>(blocks), static_cast<unsigned>(kThreadsPerBlock)};
}

// One thread per element of `n`.
inline LaunchShape elementwise_launch(std::int64_t n) { return blocks_of(n, kThreadsPerBlock); }

// One warp per row of `rows`: row = block * kWarpsPerBlock + thread / kWarpSize.
inline LaunchShape warp_per_row_launch(std::int64_t rows) {
  return blocks_of(rows, kWarpsPerBlock);
}

}  // namespace othrun::cuda_gpt
