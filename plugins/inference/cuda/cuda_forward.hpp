// The forward of docs/inference.md on a CUDA device: the packed weights uploaded once, one
// workspace of activations for the largest batch, cuBLAS sgemm for every matrix product and the
// kernels of kernels.cu for the rest, in the same order and with the same buffers and hook gathers
// as the host forward (host_forward.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "device_memory.hpp"
#include "hook_plan.hpp"
#include "host_model.hpp"
#include "memory_plan.hpp"

namespace othrun::cuda_gpt {

class CudaForward {
 public:
  // Uploads `model` and allocates a workspace for up to `max_batch` games of up to `max_pos`
  // positions (synchronously, on the current device).
  CudaForward(const PackedModel& model, int max_batch, int max_pos);

  const gpt::ModelConfig& config() const { return config_; }

  // Enqueues on `stream` the forward of device tokens [batch, n_pos] and gathers the request's
  // hooks into `hooks_out` (device, laid out as stored_hooks(request, dims)).
  void enqueue(const std::int32_t* tokens, int batch, int n_pos, const gpt::RunRequest& request,
               float* hooks_out, cudaStream_t stream);

 private:
  struct Layer {
    DeviceArray<float> ln1_w, ln1_b, ln2_w, ln2_b, W_qkv, b_qkv, W_O, b_O, W_in, b_in, W_out, b_out;
  };
  // y [rows, n] = x [rows, k] @ W [k, n] (row-major), on `stream`.
  void matmul(const float* x, const float* W, float* y, std::int64_t rows, int k, int n,
              cudaStream_t stream);
  void attention(const Dims& d, float* w, cudaStream_t stream);

  gpt::ModelConfig config_;
  int max_batch_, max_pos_;
  DeviceArray<float> W_E_, W_pos_, lnf_w_, lnf_b_, W_U_, b_U_;
  std::vector<Layer> layers_;
  DeviceArray<float> workspace_;
  CublasHandle cublas_;
};

}  // namespace othrun::cuda_gpt
