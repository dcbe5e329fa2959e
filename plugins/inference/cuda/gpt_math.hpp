// The per-element arithmetic of the Othello-GPT forward (docs/inference.md, "The model"), written
// once for both compilers: nvcc builds the CUDA kernels from these functions and g++ builds the
// host forward (host_forward.cpp) from the same ones, so the host tests check the kernels'
// arithmetic against the CPU plugin's reference. Plain C, no std:: (device code cannot call it).
#pragma once

#include <math.h>

#ifdef __CUDACC__
#define OTHRUN_HD __host__ __device__
#else
#define OTHRUN_HD
#endif

namespace othrun::cuda_gpt::math {

// Exact GELU as ATen's at::gelu: x/2 * (1 + erf(x/sqrt(2))).
OTHRUN_HD inline float gelu_erf(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

// TransformerLens gelu_new (ATen's "tanh" approximation).
OTHRUN_HD inline float gelu_tanh(float x) {
  const float inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);  // sqrt(2/pi)
  return 0.5f * x * (1.0f + tanhf(inner));
}

OTHRUN_HD inline float gelu(float x, bool erf_form) {
  return erf_form ? gelu_erf(x) : gelu_tanh(x);
}

// Partial sums over a row that `lanes` workers share: worker `lane` takes elements lane,
// lane + lanes, ... (a CUDA warp: 32 lanes then a shuffle reduction; the host: one lane).
OTHRUN_HD inline float row_partial_sum(const float* x, int n, int lane, int lanes) {
  float sum = 0.0f;
  for (int i = lane; i < n; i += lanes) sum += x[i];
  return sum;
}

OTHRUN_HD inline float row_partial_sum_sq_centered(const float* x, int n, float mean, int lane,
                                                   int lanes) {
  float sum = 0.0f;
  for (int i = lane; i < n; i += lanes) {
    const float c = x[i] - mean;
    sum += c * c;
  }
  return sum;
}

OTHRUN_HD inline float row_partial_max(const float* x, int n, int lane, int lanes) {
  float m = -INFINITY;
  for (int i = lane; i < n; i += lanes) m = x[i] > m ? x[i] : m;
  return m;
}

// TransformerLens LayerNorm: scale = sqrt(mean((x - mean)^2) + eps) (ln*.hook_scale).
OTHRUN_HD inline float ln_scale(float sum_sq_centered, int n, float eps) {
  return sqrtf(sum_sq_centered / static_cast<float>(n) + eps);
}

// (x - mean) / scale, then * w[i] + b[i] for an LN model (w, b null for LNPre).
OTHRUN_HD inline float ln_normalize(float x, float mean, float scale, const float* w,
                                    const float* b, int i) {
  const float y = (x - mean) / scale;
  return w != nullptr ? y * w[i] + b[i] : y;
}

// Attention score of query position q and key position k from the raw dot product q.k: divided
// by sqrt(d_head) as TransformerLens' attn_scale, keys after the query masked with -inf.
OTHRUN_HD inline float masked_score(float dot, float attn_scale, int q, int k) {
  return k > q ? -INFINITY : dot / attn_scale;
}

// One softmax weight: exp(s - max) / sum (a masked -inf score gives exactly 0).
OTHRUN_HD inline float softmax_weight(float score, float row_max, float sum_exp) {
  return expf(score - row_max) / sum_exp;
}

OTHRUN_HD inline float exp_shifted(float x, float row_max) { return expf(x - row_max); }

// log_softmax: x - max - log(sum exp(x - max)).
OTHRUN_HD inline float log_softmax_value(float x, float row_max, float sum_exp) {
  return x - row_max - logf(sum_exp);
}

// Where a hook's element lives in a forward buffer. A hook is stored as [batch, kept positions,
// H, K] (docs/inference.md's store layout: attention maps as [game, query, head, key]) and read
// from its buffer with these element strides; stride_b 0 broadcasts (hook_pos_embed).
struct Gather {
  long long offset;  // element of [0, 0, 0, 0]
  long long stride_b, stride_p, stride_h, stride_k;
  int H, K;
};

OTHRUN_HD inline long long gather_source(const Gather& g, int b, int p, int h, int k) {
  return g.offset + b * g.stride_b + p * g.stride_p + h * g.stride_h + k * g.stride_k;
}

// Index of [b, p - pos_begin, h, k] in the stored block of `kept` positions.
OTHRUN_HD inline long long gather_destination(const Gather& g, int kept, int b, int p_kept, int h,
                                              int k) {
  return ((static_cast<long long>(b) * kept + p_kept) * g.H + h) * g.K + k;
}

}  // namespace othrun::cuda_gpt::math
