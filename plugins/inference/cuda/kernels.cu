// The CUDA forward's element-wise and row kernels; the matrix products are cuBLAS
// (cuda_forward.cpp). Row kernels give one warp to a row (d_model 512 = 16 elements per lane).
#include <cuda_runtime.h>

#include "kernels.hpp"
#include "launch_shape.hpp"

namespace othrun::cuda_gpt::kernels {

namespace {

constexpr int kWarp = kWarpSize;

__device__ float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ float warp_max(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

__global__ void embed_kernel(const std::int32_t* tokens, const float* W_E, const float* W_pos,
                             float* embed, float* resid, std::int64_t rows, int n_pos, int d) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * d) return;
  const std::int64_t r = i / d;
  const int j = static_cast<int>(i % d);
  const float e = W_E[static_cast<std::int64_t>(tokens[r]) * d + j];
  embed[i] = e;
  resid[i] = e + W_pos[(r % n_pos) * d + j];
}

__global__ void layer_norm_kernel(const float* x, std::int64_t rows, int n, float eps,
                                  const float* w, const float* b, float* out, float* scale) {
  const std::int64_t r =
      blockIdx.x * static_cast<std::int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (r >= rows) return;
  const float* row = x + r * n;
  const float mean = warp_sum(math::row_partial_sum(row, n, lane, kWarp)) / static_cast<float>(n);
  const float s = math::ln_scale(
      warp_sum(math::row_partial_sum_sq_centered(row, n, mean, lane, kWarp)), n, eps);
  if (lane == 0) scale[r] = s;
  for (int i = lane; i < n; i += kWarp)
    out[r * n + i] = math::ln_normalize(row[i], mean, s, w, b, i);
}

__global__ void add_bias_kernel(float* x, const float* bias, std::int64_t total, int n) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < total) x[i] += bias[i % n];
}

__global__ void bias_gelu_kernel(float* pre, const float* b_in, float* post, std::int64_t total,
                                 int n, bool erf_form) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= total) return;
  const float v = pre[i] + b_in[i % n];
  pre[i] = v;
  post[i] = math::gelu(v, erf_form);
}

__global__ void add_kernel(const float* a, const float* b, float* out, std::int64_t n) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = a[i] + b[i];
}

__global__ void mask_softmax_kernel(float* scores, float* pattern, std::int64_t rows, int n_pos,
                                    float attn_scale) {
  const std::int64_t r =
      blockIdx.x * static_cast<std::int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (r >= rows) return;
  const int q = static_cast<int>(r % n_pos);
  float* row = scores + r * n_pos;
  for (int k = lane; k < n_pos; k += kWarp) row[k] = math::masked_score(row[k], attn_scale, q, k);
  __syncwarp();
  const float row_max = warp_max(math::row_partial_max(row, n_pos, lane, kWarp));
  float sum = 0.0f;
  for (int k = lane; k < n_pos; k += kWarp) sum += math::exp_shifted(row[k], row_max);
  sum = warp_sum(sum);
  for (int k = lane; k < n_pos; k += kWarp) {
    pattern[r * n_pos + k] = math::softmax_weight(row[k], row_max, sum);
  }
}

__global__ void log_softmax_kernel(float* x, std::int64_t rows, int n) {
  const std::int64_t r =
      blockIdx.x * static_cast<std::int64_t>(kWarpsPerBlock) + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (r >= rows) return;
  float* row = x + r * n;
  const float row_max = warp_max(math::row_partial_max(row, n, lane, kWarp));
  float sum = 0.0f;
  for (int k = lane; k < n; k += kWarp) sum += math::exp_shifted(row[k], row_max);
  sum = warp_sum(sum);
  for (int k = lane; k < n; k += kWarp) row[k] = math::log_softmax_value(row[k], row_max, sum);
}

__global__ void gather_kernel(const float* src, float* dst, math::Gather g, int batch, int begin,
                              int kept) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  const std::int64_t total = static_cast<std::int64_t>(batch) * kept * g.H * g.K;
  if (i >= total) return;
  const int k = static_cast<int>(i % g.K);
  const int h = static_cast<int>((i / g.K) % g.H);
  const int p = static_cast<int>((i / (static_cast<std::int64_t>(g.K) * g.H)) % kept);
  const int b = static_cast<int>(i / (static_cast<std::int64_t>(g.K) * g.H * kept));
  dst[math::gather_destination(g, kept, b, p, h, k)] =
      src[math::gather_source(g, b, p + begin, h, k)];
}

}  // namespace

void embed(const std::int32_t* tokens, const float* W_E, const float* W_pos, float* embed,
           float* resid, std::int64_t rows, int n_pos, int d_model, Stream stream) {
  embed_kernel<<<elementwise_launch(rows * d_model).blocks, kThreadsPerBlock, 0, stream>>>(
      tokens, W_E, W_pos, embed, resid, rows, n_pos, d_model);
}

void layer_norm(const float* x, std::int64_t rows, int n, float eps, const float* w, const float* b,
                float* out, float* scale, Stream stream) {
  layer_norm_kernel<<<warp_per_row_launch(rows).blocks, kThreadsPerBlock, 0, stream>>>(
      x, rows, n, eps, w, b, out, scale);
}

void add_bias(float* x, const float* bias, std::int64_t rows, int n, Stream stream) {
  add_bias_kernel<<<elementwise_launch(rows * n).blocks, kThreadsPerBlock, 0, stream>>>(
      x, bias, rows * n, n);
}

void bias_gelu(float* pre, const float* b_in, float* post, std::int64_t rows, int n, bool erf_form,
               Stream stream) {
  bias_gelu_kernel<<<elementwise_launch(rows * n).blocks, kThreadsPerBlock, 0, stream>>>(
      pre, b_in, post, rows * n, n, erf_form);
}

void add(const float* a, const float* b, float* out, std::int64_t n, Stream stream) {
  add_kernel<<<elementwise_launch(n).blocks, kThreadsPerBlock, 0, stream>>>(a, b, out, n);
}

void mask_softmax(float* scores, float* pattern, std::int64_t maps, int n_pos, float attn_scale,
                  Stream stream) {
  const std::int64_t rows = maps * n_pos;
  mask_softmax_kernel<<<warp_per_row_launch(rows).blocks, kThreadsPerBlock, 0, stream>>>(
      scores, pattern, rows, n_pos, attn_scale);
}

void log_softmax(float* x, std::int64_t rows, int n, Stream stream) {
  log_softmax_kernel<<<warp_per_row_launch(rows).blocks, kThreadsPerBlock, 0, stream>>>(x, rows, n);
}

void gather(const float* src, float* dst, const math::Gather& g, int batch, int window_begin,
            int window_end, Stream stream) {
  const int kept = window_end - window_begin;
  const std::int64_t total = static_cast<std::int64_t>(batch) * kept * g.H * g.K;
  gather_kernel<<<elementwise_launch(total).blocks, kThreadsPerBlock, 0, stream>>>(
      src, dst, g, batch, window_begin, kept);
}

}  // namespace othrun::cuda_gpt::kernels
