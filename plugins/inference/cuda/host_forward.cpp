#include "host_forward.hpp"

#include <fmt/format.h>

#include "gpt_math.hpp"
#include "hook_plan.hpp"

namespace othrun::cuda_gpt {

namespace {

using Buffer = std::vector<float>;

class Recorder {
 public:
  Recorder(const gpt::RunRequest& request, const Dims& dims)
      : request_(request), dims_(dims), window_(position_window(request, dims.n_pos)) {}

  bool wants(const std::string& name) const { return request_.hooks.count(name) != 0; }

  void record(const std::string& name, const float* source) {
    if (wants(name)) record_always(name, source);
  }

  void record_always(const std::string& name, const float* source) {
    const HookLayout layout = hook_layout(name, dims_);
    const math::Gather& g = layout.gather;
    HostTensor::Shape shape{dims_.batch, window_.kept()};
    shape.insert(shape.end(), layout.trailing.begin(), layout.trailing.end());
    HostTensor out(DType::Float32, shape);
    auto* dst = reinterpret_cast<float*>(out.mutable_data());
    for (int b = 0; b < dims_.batch; ++b) {
      for (int p = window_.begin; p < window_.end; ++p) {
        for (int h = 0; h < g.H; ++h) {
          for (int k = 0; k < g.K; ++k) {
            dst[math::gather_destination(g, window_.kept(), b, p - window_.begin, h, k)] =
                source[math::gather_source(g, b, p, h, k)];
          }
        }
      }
    }
    cache_[name] = std::move(out);
  }

  gpt::Cache take() { return std::move(cache_); }

 private:
  const gpt::RunRequest& request_;
  Dims dims_;
  PositionWindow window_;
  gpt::Cache cache_;
};

// out[r, :] = x[r, :] @ W + bias for row-major x [rows, in], W [in, out].
void linear(const float* x, std::int64_t rows, std::int64_t in, const std::vector<float>& W,
            const std::vector<float>& bias, float* out) {
  const std::int64_t n = static_cast<std::int64_t>(bias.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    float* o = out + r * n;
    for (std::int64_t j = 0; j < n; ++j) o[j] = 0.0f;
    for (std::int64_t i = 0; i < in; ++i) {
      const float xi = x[r * in + i];
      const float* w = W.data() + i * n;
      for (std::int64_t j = 0; j < n; ++j) o[j] += xi * w[j];
    }
    for (std::int64_t j = 0; j < n; ++j) o[j] += bias[static_cast<std::size_t>(j)];
  }
}

void layer_norm(const Buffer& x, std::int64_t rows, int n, float eps, const std::vector<float>& w,
                const std::vector<float>& b, Buffer& out, Buffer& scale) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * n;
    const float mean = math::row_partial_sum(row, n, 0, 1) / static_cast<float>(n);
    const float s = math::ln_scale(math::row_partial_sum_sq_centered(row, n, mean, 0, 1), n, eps);
    scale[static_cast<std::size_t>(r)] = s;
    for (int i = 0; i < n; ++i) {
      out[static_cast<std::size_t>(r * n + i)] = math::ln_normalize(
          row[i], mean, s, w.empty() ? nullptr : w.data(), b.empty() ? nullptr : b.data(), i);
    }
  }
}

void add(const Buffer& a, const Buffer& b, Buffer& out) {
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
}

// Scores [batch, head, query, key] from qkv [batch, pos, 3*H*d_head], the patterns, and
// z [batch, pos, H*d_head].
void attention(const Buffer& qkv, const Dims& d, Buffer& scores, Buffer& pattern, Buffer& z) {
  const int P = d.n_pos, H = d.n_heads, E = d.d_head, hd = d.hd();
  const float attn_scale = sqrtf(static_cast<float>(E));
  for (int b = 0; b < d.batch; ++b) {
    for (int h = 0; h < H; ++h) {
      float* s = scores.data() + (static_cast<std::size_t>(b) * H + h) * P * P;
      float* pat = pattern.data() + (static_cast<std::size_t>(b) * H + h) * P * P;
      for (int q = 0; q < P; ++q) {
        const float* qv = qkv.data() + (static_cast<std::size_t>(b) * P + q) * 3 * hd + h * E;
        for (int k = 0; k < P; ++k) {
          const float* kv =
              qkv.data() + (static_cast<std::size_t>(b) * P + k) * 3 * hd + hd + h * E;
          float dot = 0.0f;
          for (int e = 0; e < E; ++e) dot += qv[e] * kv[e];
          s[q * P + k] = math::masked_score(dot, attn_scale, q, k);
        }
        const float* row = s + q * P;
        const float row_max = math::row_partial_max(row, P, 0, 1);
        float sum = 0.0f;
        for (int k = 0; k < P; ++k) sum += math::exp_shifted(row[k], row_max);
        for (int k = 0; k < P; ++k) pat[q * P + k] = math::softmax_weight(row[k], row_max, sum);
        float* zq = z.data() + (static_cast<std::size_t>(b) * P + q) * hd + h * E;
        for (int e = 0; e < E; ++e) zq[e] = 0.0f;
        for (int k = 0; k < P; ++k) {
          const float* vv =
              qkv.data() + (static_cast<std::size_t>(b) * P + k) * 3 * hd + 2 * hd + h * E;
          for (int e = 0; e < E; ++e) zq[e] += pat[q * P + k] * vv[e];
        }
      }
    }
  }
}

}  // namespace

gpt::Cache host_forward(const PackedModel& m, const std::vector<std::int32_t>& tokens, int batch,
                        int n_pos, const gpt::RunRequest& request) {
  const gpt::ModelConfig& c = m.config;
  check_request(request, c, tokens, batch, n_pos);
  const Dims d = Dims::of(c, batch, n_pos);
  const std::int64_t rows = d.rows();
  const auto D = static_cast<std::size_t>(d.d_model);
  const auto eps = static_cast<float>(c.eps);
  Recorder rec(request, d);

  Buffer embed(rows * D), resid(rows * D), x(rows * D), scale(rows);
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto token = static_cast<std::size_t>(tokens[static_cast<std::size_t>(r)]);
    const auto p = static_cast<std::size_t>(r % n_pos);
    for (std::size_t i = 0; i < D; ++i) {
      embed[r * D + i] = m.W_E[token * D + i];
      resid[r * D + i] = embed[r * D + i] + m.W_pos[p * D + i];
    }
  }
  rec.record("hook_embed", embed.data());
  rec.record("hook_pos_embed", m.W_pos.data());

  Buffer qkv(rows * 3 * d.hd()), z(rows * d.hd());
  Buffer scores(static_cast<std::size_t>(d.batch) * d.n_heads * n_pos * n_pos);
  Buffer pattern(scores.size()), attn_out(rows * D), resid_mid(rows * D), mlp_out(rows * D);
  Buffer pre(rows * d.d_mlp), post(rows * d.d_mlp);
  const std::int64_t layers = layers_needed(request, c);
  for (std::int64_t l = 0; l < layers; ++l) {
    const PackedLayer& p = m.layers[static_cast<std::size_t>(l)];
    const std::string prefix = fmt::format("blocks.{}.", l);
    rec.record(prefix + "hook_resid_pre", resid.data());
    layer_norm(resid, rows, d.d_model, eps, p.ln1_w, p.ln1_b, x, scale);
    rec.record(prefix + "ln1.hook_scale", scale.data());
    rec.record(prefix + "ln1.hook_normalized", x.data());
    linear(x.data(), rows, d.d_model, p.W_qkv, p.b_qkv, qkv.data());
    for (const char* name : {"attn.hook_q", "attn.hook_k", "attn.hook_v"}) {
      rec.record(prefix + name, qkv.data());
    }
    attention(qkv, d, scores, pattern, z);
    rec.record(prefix + "attn.hook_attn_scores", scores.data());
    rec.record(prefix + "attn.hook_pattern", pattern.data());
    rec.record(prefix + "attn.hook_z", z.data());
    linear(z.data(), rows, d.hd(), p.W_O, p.b_O, attn_out.data());
    rec.record(prefix + "hook_attn_out", attn_out.data());
    add(resid, attn_out, resid_mid);
    rec.record(prefix + "hook_resid_mid", resid_mid.data());
    layer_norm(resid_mid, rows, d.d_model, eps, p.ln2_w, p.ln2_b, x, scale);
    rec.record(prefix + "ln2.hook_scale", scale.data());
    rec.record(prefix + "ln2.hook_normalized", x.data());
    linear(x.data(), rows, d.d_model, p.W_in, p.b_in, pre.data());
    rec.record(prefix + "mlp.hook_pre", pre.data());
    const bool erf_form = c.act_fn == gpt::Activation::GeluErf;
    for (std::size_t i = 0; i < pre.size(); ++i) post[i] = math::gelu(pre[i], erf_form);
    rec.record(prefix + "mlp.hook_post", post.data());
    linear(post.data(), rows, d.d_mlp, p.W_out, p.b_out, mlp_out.data());
    rec.record(prefix + "hook_mlp_out", mlp_out.data());
    add(resid_mid, mlp_out, resid);
    rec.record(prefix + "hook_resid_post", resid.data());
  }
  if (layers < c.n_layers)
    rec.record(fmt::format("blocks.{}.hook_resid_pre", layers), resid.data());
  if (layers == c.n_layers &&
      (request.logits != gpt::LogitsOutput::None || rec.wants("ln_final.hook_scale") ||
       rec.wants("ln_final.hook_normalized"))) {
    layer_norm(resid, rows, d.d_model, eps, m.lnf_w, m.lnf_b, x, scale);
    rec.record("ln_final.hook_scale", scale.data());
    rec.record("ln_final.hook_normalized", x.data());
    Buffer logits(rows * d.d_vocab_out);
    linear(x.data(), rows, d.d_model, m.W_U, m.b_U, logits.data());
    if (request.logits == gpt::LogitsOutput::Logits) rec.record_always("logits", logits.data());
    if (request.logits == gpt::LogitsOutput::LogProbs) {
      const int V = d.d_vocab_out;
      for (std::int64_t r = 0; r < rows; ++r) {
        float* row = logits.data() + r * V;
        const float row_max = math::row_partial_max(row, V, 0, 1);
        float sum = 0.0f;
        for (int v = 0; v < V; ++v) sum += math::exp_shifted(row[v], row_max);
        for (int v = 0; v < V; ++v) row[v] = math::log_softmax_value(row[v], row_max, sum);
      }
      rec.record_always("log_probs", logits.data());
    }
  }
  return rec.take();
}

}  // namespace othrun::cuda_gpt
