// Launchers of the CUDA forward's kernels (kernels.cu). Plain C++: callers compile with g++ and see
// no CUDA header; every launcher enqueues on `stream` and returns at once. Pointers are device
// memory; matrices are row-major. The arithmetic is gpt_math.hpp's.
#pragma once

#include <cstdint>

#include "gpt_math.hpp"

struct CUstream_st;

namespace othrun::cuda_gpt::kernels {

using Stream = CUstream_st*;

// embed[r] = W_E[tokens[r]], resid[r] = embed[r] + W_pos[r % n_pos] for rows r of [batch*n_pos].
void embed(const std::int32_t* tokens, const float* W_E, const float* W_pos, float* embed,
           float* resid, std::int64_t rows, int n_pos, int d_model, Stream stream);

// LayerNorm / LNPre over rows of width n (w, b null for LNPre): out and scale [rows].
void layer_norm(const float* x, std::int64_t rows, int n, float eps, const float* w, const float* b,
                float* out, float* scale, Stream stream);

// x[r, j] += bias[j] over [rows, n].
void add_bias(float* x, const float* bias, std::int64_t rows, int n, Stream stream);

// pre[r, j] += b_in[j]; post = gelu(pre) (erf_form: exact erf GELU, else tanh).
void bias_gelu(float* pre, const float* b_in, float* post, std::int64_t rows, int n, bool erf_form,
               Stream stream);

// out = a + b over n elements.
void add(const float* a, const float* b, float* out, std::int64_t n, Stream stream);

// Rows of `scores` [maps, n_pos, n_pos] hold raw q.k: scaled and causally masked in place
// (math::masked_score), and `pattern` = their softmax.
void mask_softmax(float* scores, float* pattern, std::int64_t maps, int n_pos, float attn_scale,
                  Stream stream);

// log_softmax in place over rows of width n.
void log_softmax(float* x, std::int64_t rows, int n, Stream stream);

// dst [batch, window_end - window_begin, H, K] gathered from src by `g` (hook_plan.hpp).
void gather(const float* src, float* dst, const math::Gather& g, int batch, int window_begin,
            int window_end, Stream stream);

}  // namespace othrun::cuda_gpt::kernels
