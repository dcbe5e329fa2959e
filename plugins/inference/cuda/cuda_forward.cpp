#include "cuda_forward.hpp"

#include <othrun/error.hpp>

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "kernels.hpp"

namespace othrun::cuda_gpt {

namespace {

DeviceArray<float> upload(const std::vector<float>& values) {
  DeviceArray<float> out(values.size());
  if (!values.empty()) {
    check_cuda(
        cudaMemcpy(out.get(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice),
        "cudaMemcpy (weights)");
  }
  return out;
}

// Gathers the requested hooks out of the forward's buffers into the batch's hook block.
class DeviceRecorder {
 public:
  DeviceRecorder(const gpt::RunRequest& request, const Dims& dims, float* out, cudaStream_t stream)
      : request_(request),
        dims_(dims),
        window_(position_window(request, dims.n_pos)),
        out_(out),
        stream_(stream) {
    for (StoredHook& hook : stored_hooks(request, dims)) hooks_.emplace(hook.name, hook);
  }

  bool wants(const std::string& name) const { return request_.hooks.count(name) != 0; }

  void record(const std::string& name, const float* source) {
    auto it = hooks_.find(name);
    if (it == hooks_.end()) return;
    kernels::gather(source, out_ + it->second.offset, it->second.layout.gather, dims_.batch,
                    window_.begin, window_.end, stream_);
  }

 private:
  const gpt::RunRequest& request_;
  Dims dims_;
  PositionWindow window_;
  float* out_;
  cudaStream_t stream_;
  std::map<std::string, StoredHook> hooks_;
};

const float* or_null(const DeviceArray<float>& a) { return a.size() == 0 ? nullptr : a.get(); }

}  // namespace

CudaForward::CudaForward(const PackedModel& m, int max_batch, int max_pos)
    : config_(m.config), max_batch_(max_batch), max_pos_(max_pos) {
  W_E_ = upload(m.W_E);
  W_pos_ = upload(m.W_pos);
  for (const PackedLayer& p : m.layers) {
    layers_.push_back(Layer{upload(p.ln1_w), upload(p.ln1_b), upload(p.ln2_w), upload(p.ln2_b),
                            upload(p.W_qkv), upload(p.b_qkv), upload(p.W_O), upload(p.b_O),
                            upload(p.W_in), upload(p.b_in), upload(p.W_out), upload(p.b_out)});
  }
  lnf_w_ = upload(m.lnf_w);
  lnf_b_ = upload(m.lnf_b);
  W_U_ = upload(m.W_U);
  b_U_ = upload(m.b_U);
  const Dims largest = Dims::of(config_, max_batch, max_pos);
  workspace_ = DeviceArray<float>(static_cast<std::size_t>(workspace_layout(largest).total_floats));
}

void CudaForward::matmul(const float* x, const float* W, float* y, std::int64_t rows, int k, int n,
                         cudaStream_t stream) {
  // Row-major y = x @ W is column-major y^T = W^T x^T: cuBLAS sees W as [n, k] and x as [k, rows].
  const float one = 1.0f, zero = 0.0f;
  check_cublas(cublasSetStream(cublas_.get(), stream), "cublasSetStream");
  check_cublas(cublasSgemm(cublas_.get(), CUBLAS_OP_N, CUBLAS_OP_N, n, static_cast<int>(rows), k,
                           &one, W, n, x, k, &zero, y, n),
               "cublasSgemm");
}

// Scores [batch, head, query, key] = q.k (raw), then scaled, masked and softmaxed by a kernel;
// z [batch, pos, head*d_head] = pattern @ v. One strided-batched product per head over the batch.
void CudaForward::attention(const Dims& d, float* w, cudaStream_t stream) {
  const WorkspaceLayout ws = workspace_layout(d);
  const int P = d.n_pos, E = d.d_head, H = d.n_heads, hd = d.hd(), row = 3 * hd;
  const float one = 1.0f, zero = 0.0f;
  const float* qkv = w + ws.qkv;
  float* scores = w + ws.scores;
  float* pattern = w + ws.pattern;
  check_cublas(cublasSetStream(cublas_.get(), stream), "cublasSetStream");
  for (int h = 0; h < H; ++h) {
    const float* q = qkv + h * E;
    const float* k = qkv + hd + h * E;
    // Column-major C[key, query] = sum_e K[key, e] Q[query, e], i.e. row-major scores[query][key].
    check_cublas(cublasSgemmStridedBatched(cublas_.get(), CUBLAS_OP_T, CUBLAS_OP_N, P, P, E, &one,
                                           k, row, static_cast<long long>(P) * row, q, row,
                                           static_cast<long long>(P) * row, &zero,
                                           scores + static_cast<long long>(h) * P * P, P,
                                           static_cast<long long>(H) * P * P, d.batch),
                 "cublasSgemmStridedBatched (scores)");
  }
  kernels::mask_softmax(scores, pattern, static_cast<std::int64_t>(d.batch) * H, P,
                        std::sqrt(static_cast<float>(E)), stream);
  for (int h = 0; h < H; ++h) {
    const float* v = qkv + 2 * hd + h * E;
    // Row-major z_h [query, e] = pattern_h [query, key] @ v_h [key, e].
    check_cublas(cublasSgemmStridedBatched(
                     cublas_.get(), CUBLAS_OP_N, CUBLAS_OP_N, E, P, P, &one, v, row,
                     static_cast<long long>(P) * row, pattern + static_cast<long long>(h) * P * P,
                     P, static_cast<long long>(H) * P * P, &zero, w + ws.z + h * E, hd,
                     static_cast<long long>(P) * hd, d.batch),
                 "cublasSgemmStridedBatched (z)");
  }
}

void CudaForward::enqueue(const std::int32_t* tokens, int batch, int n_pos,
                          const gpt::RunRequest& request, float* hooks_out, cudaStream_t stream) {
  if (batch > max_batch_ || n_pos > max_pos_) {
    throw Error(fmt::format("CUDA forward: batch {}x{} exceeds the workspace's {}x{}", batch, n_pos,
                            max_batch_, max_pos_));
  }
  const gpt::ModelConfig& c = config_;
  const Dims d = Dims::of(c, batch, n_pos);
  const WorkspaceLayout ws = workspace_layout(d);
  const std::int64_t rows = d.rows();
  const int D = d.d_model;
  const auto eps = static_cast<float>(c.eps);
  float* w = workspace_.get();
  DeviceRecorder rec(request, d, hooks_out, stream);

  kernels::embed(tokens, W_E_.get(), W_pos_.get(), w + ws.embed, w + ws.resid, rows, n_pos, D,
                 stream);
  rec.record("hook_embed", w + ws.embed);
  rec.record("hook_pos_embed", W_pos_.get());
  const bool erf_form = c.act_fn == gpt::Activation::GeluErf;
  const std::int64_t layers = layers_needed(request, c);
  for (std::int64_t l = 0; l < layers; ++l) {
    const Layer& p = layers_[static_cast<std::size_t>(l)];
    const std::string prefix = fmt::format("blocks.{}.", l);
    rec.record(prefix + "hook_resid_pre", w + ws.resid);
    kernels::layer_norm(w + ws.resid, rows, D, eps, or_null(p.ln1_w), or_null(p.ln1_b), w + ws.x,
                        w + ws.scale, stream);
    rec.record(prefix + "ln1.hook_scale", w + ws.scale);
    rec.record(prefix + "ln1.hook_normalized", w + ws.x);
    matmul(w + ws.x, p.W_qkv.get(), w + ws.qkv, rows, D, 3 * d.hd(), stream);
    kernels::add_bias(w + ws.qkv, p.b_qkv.get(), rows, 3 * d.hd(), stream);
    for (const char* name : {"attn.hook_q", "attn.hook_k", "attn.hook_v"}) {
      rec.record(prefix + name, w + ws.qkv);
    }
    attention(d, w, stream);
    rec.record(prefix + "attn.hook_attn_scores", w + ws.scores);
    rec.record(prefix + "attn.hook_pattern", w + ws.pattern);
    rec.record(prefix + "attn.hook_z", w + ws.z);
    matmul(w + ws.z, p.W_O.get(), w + ws.attn_out, rows, d.hd(), D, stream);
    kernels::add_bias(w + ws.attn_out, p.b_O.get(), rows, D, stream);
    rec.record(prefix + "hook_attn_out", w + ws.attn_out);
    kernels::add(w + ws.resid, w + ws.attn_out, w + ws.resid_mid, rows * D, stream);
    rec.record(prefix + "hook_resid_mid", w + ws.resid_mid);
    kernels::layer_norm(w + ws.resid_mid, rows, D, eps, or_null(p.ln2_w), or_null(p.ln2_b),
                        w + ws.x, w + ws.scale, stream);
    rec.record(prefix + "ln2.hook_scale", w + ws.scale);
    rec.record(prefix + "ln2.hook_normalized", w + ws.x);
    matmul(w + ws.x, p.W_in.get(), w + ws.pre, rows, D, d.d_mlp, stream);
    kernels::bias_gelu(w + ws.pre, p.b_in.get(), w + ws.post, rows, d.d_mlp, erf_form, stream);
    rec.record(prefix + "mlp.hook_pre", w + ws.pre);
    rec.record(prefix + "mlp.hook_post", w + ws.post);
    matmul(w + ws.post, p.W_out.get(), w + ws.mlp_out, rows, d.d_mlp, D, stream);
    kernels::add_bias(w + ws.mlp_out, p.b_out.get(), rows, D, stream);
    rec.record(prefix + "hook_mlp_out", w + ws.mlp_out);
    kernels::add(w + ws.resid_mid, w + ws.mlp_out, w + ws.resid, rows * D, stream);
    rec.record(prefix + "hook_resid_post", w + ws.resid);
  }
  if (layers < c.n_layers)
    rec.record(fmt::format("blocks.{}.hook_resid_pre", layers), w + ws.resid);
  if (layers == c.n_layers &&
      (request.logits != gpt::LogitsOutput::None || rec.wants("ln_final.hook_scale") ||
       rec.wants("ln_final.hook_normalized"))) {
    kernels::layer_norm(w + ws.resid, rows, D, eps, or_null(lnf_w_), or_null(lnf_b_), w + ws.x,
                        w + ws.scale, stream);
    rec.record("ln_final.hook_scale", w + ws.scale);
    rec.record("ln_final.hook_normalized", w + ws.x);
    if (request.logits != gpt::LogitsOutput::None) {
      matmul(w + ws.x, W_U_.get(), w + ws.logits, rows, D, d.d_vocab_out, stream);
      kernels::add_bias(w + ws.logits, b_U_.get(), rows, d.d_vocab_out, stream);
      if (request.logits == gpt::LogitsOutput::LogProbs) {
        kernels::log_softmax(w + ws.logits, rows, d.d_vocab_out, stream);
      }
      rec.record(request.logits == gpt::LogitsOutput::Logits ? "logits" : "log_probs",
                 w + ws.logits);
    }
  }
  check_cuda(cudaGetLastError(), "kernel launch");
}

}  // namespace othrun::cuda_gpt
