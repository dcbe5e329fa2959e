#include "directions.hpp"

#include <othrun/error.hpp>
#include <othrun/othello.hpp>
#include <othrun/torch/checkpoint.hpp>

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <regex>

namespace othrun::dashboard {

namespace {

std::vector<float> floats_of(const HostTensor& t, const HostTensor::Shape& shape,
                             const std::string& name, const std::string& source) {
  if (t.shape() != shape) {
    throw DataError(fmt::format("{}: tensor '{}' has shape {}, expected {}", source, name,
                                shape_string(t.shape()), shape_string(shape)));
  }
  return t.to_vector<float>();
}

// "blocks.L.<rest>" -> L and rest, or nullopt.
std::optional<std::pair<int, std::string>> split_hook(const std::string& hook) {
  static const std::regex pattern(R"(blocks\.(\d+)\.(.+))");
  std::smatch m;
  if (!std::regex_match(hook, m, pattern)) return std::nullopt;
  return std::make_pair(std::stoi(m[1].str()), m[2].str());
}

Directions basis(std::int64_t units, const std::string& hook) {
  Directions d;
  d.dim = units;
  d.rows.assign(static_cast<std::size_t>(units * units), 0.0f);
  for (std::int64_t u = 0; u < units; ++u) d.rows[static_cast<std::size_t>(u * units + u)] = 1.0f;
  d.source = "basis vector e_n of the residual-stream hook " + hook;
  return d;
}

double dot(const float* a, const float* b, std::int64_t n, std::int64_t b_stride) {
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) s += double{a[i]} * b[i * b_stride];
  return s;
}

}  // namespace

Unembedding read_unembedding(const std::filesystem::path& model) {
  const gpt::LoadedCheckpoint ckpt = gpt::load_checkpoint(model);
  const std::string source = model.string();
  Unembedding u;
  const HostTensor& W_U = require_tensor(ckpt.tensors, "unembed.W_U", source);
  if (W_U.dim() != 2)
    throw DataError(fmt::format("{}: unembed.W_U has shape {}, expected [d_model, d_vocab]", source,
                                shape_string(W_U.shape())));
  u.d_model = W_U.shape()[0];
  u.d_vocab = W_U.shape()[1];
  if (u.d_vocab != othello::kNumTokens + 1)
    throw DataError(fmt::format("{}: unembed.W_U has {} outputs, expected {} (pass + 60 moves)",
                                source, u.d_vocab, othello::kNumTokens + 1));
  u.W_U = W_U.to_vector<float>();
  if (const HostTensor* w = find_tensor(ckpt.tensors, "ln_final.w"))
    u.ln_final_w = floats_of(*w, {u.d_model}, "ln_final.w", source);
  for (int layer = 0;; ++layer) {
    const std::string name = fmt::format("blocks.{}.mlp.W_out", layer);
    const HostTensor* w = find_tensor(ckpt.tensors, name);
    if (!w) break;
    if (w->dim() != 2 || w->shape()[1] != u.d_model)
      throw DataError(fmt::format("{}: {} has shape {}, expected [d_mlp, {}]", source, name,
                                  shape_string(w->shape()), u.d_model));
    u.d_mlp = w->shape()[0];
    u.W_out.push_back(w->to_vector<float>());
  }
  return u;
}

std::optional<Directions> unit_directions(const UnitSource& source, const analysis::Sae* sae,
                                          const Unembedding* model, std::string& why_not) {
  switch (source.kind()) {
    case UnitKind::Feature: {
      if (!sae) {
        why_not = "no `sae:` was given, so the decoder directions are unknown";
        return std::nullopt;
      }
      Directions d;
      d.dim = sae->d_in;
      d.rows = sae->W_dec;
      d.source = "decoder row W_dec[f] of the SAE";
      return d;
    }
    case UnitKind::Probe: {
      const analysis::Probe& p = *source.probe_model();
      Directions d;
      d.dim = p.d_model;
      d.rows.resize(static_cast<std::size_t>(64 * p.d_model));
      const bool blank = source.probe_direction() == "blank";
      const auto& dir = blank ? p.blank_dir : p.mine_dir;
      for (std::size_t s = 0; s < 64; ++s)
        for (std::size_t i = 0; i < static_cast<std::size_t>(p.d_model); ++i)
          d.rows[s * static_cast<std::size_t>(p.d_model) + i] = dir[i * 64 + s];
      d.source = std::string("the probe's ") + (blank ? "blank_dir" : "mine_dir");
      return d;
    }
    case UnitKind::Neuron: {
      const auto parts = split_hook(source.hook());
      const std::string rest = parts ? parts->second : "";
      if (rest == "hook_resid_pre" || rest == "hook_resid_mid" || rest == "hook_resid_post" ||
          rest == "hook_attn_out" || rest == "hook_mlp_out")
        return basis(source.units(), source.hook());
      if (rest == "mlp.hook_post") {
        if (!model) {
          why_not = "no `model:` was given, so the neurons' output weights W_out are unknown";
          return std::nullopt;
        }
        const auto layer = static_cast<std::size_t>(parts->first);
        if (layer >= model->W_out.size() || model->d_mlp != source.units()) {
          throw DataError(fmt::format(
              "the model has {} layers with d_mlp {}, but hook '{}' holds {} neurons: the "
              "`model:` is not the one the activations were cached from",
              model->W_out.size(), model->d_mlp, source.hook(), source.units()));
        }
        Directions d;
        d.dim = model->d_model;
        d.rows = model->W_out[layer];
        d.source = fmt::format("output weights W_out[n] of blocks.{}.mlp", layer);
        return d;
      }
      why_not = "hook " + source.hook() +
                " has no direction in the residual stream (only mlp.hook_post neurons, "
                "residual-stream hooks, SAE features and probe directions do)";
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::vector<float> direct_effect(const Directions& directions, const Unembedding& model) {
  if (directions.dim != model.d_model)
    throw DataError(
        fmt::format("the unit directions have {} dimensions but the model's d_model "
                    "is {}: the `model:` does not match the units",
                    directions.dim, model.d_model));
  const std::int64_t n = directions.dim, vocab = model.d_vocab;
  const std::size_t units = directions.rows.size() / static_cast<std::size_t>(n);
  std::vector<float> out(units * 64, std::numeric_limits<float>::quiet_NaN());
  std::vector<double> x(static_cast<std::size_t>(n)), logit(static_cast<std::size_t>(vocab));
  for (std::size_t u = 0; u < units; ++u) {
    const float* d = directions.rows.data() + u * static_cast<std::size_t>(n);
    double mean = 0;
    for (std::int64_t i = 0; i < n; ++i) mean += d[i];
    mean /= static_cast<double>(n);
    for (std::int64_t i = 0; i < n; ++i) {
      const double w =
          model.ln_final_w.empty() ? 1.0 : model.ln_final_w[static_cast<std::size_t>(i)];
      x[static_cast<std::size_t>(i)] = (d[i] - mean) * w;
    }
    double move_mean = 0;
    for (std::int64_t v = 0; v < vocab; ++v) {
      double s = 0;
      for (std::int64_t i = 0; i < n; ++i)
        s += x[static_cast<std::size_t>(i)] * model.W_U[static_cast<std::size_t>(i * vocab + v)];
      logit[static_cast<std::size_t>(v)] = s;
      if (v >= 1) move_mean += s;
    }
    move_mean /= othello::kNumTokens;
    for (int token = 1; token <= othello::kNumTokens; ++token) {
      const int square = othello::token_to_square(token);
      out[u * 64 + static_cast<std::size_t>(square)] =
          static_cast<float>(logit[static_cast<std::size_t>(token)] - move_mean);
    }
  }
  return out;
}

ProbeCosines probe_cosines(const Directions& directions, const analysis::Probe& probe) {
  if (directions.dim != probe.d_model)
    throw DataError(
        fmt::format("the unit directions have {} dimensions but the probe's d_model "
                    "is {}: the `probe:` does not match the units",
                    directions.dim, probe.d_model));
  const std::int64_t n = directions.dim;
  const std::size_t units = directions.rows.size() / static_cast<std::size_t>(n);
  ProbeCosines out;
  out.blank.resize(units * 64);
  out.mine.resize(units * 64);
  std::vector<double> blank_norm(64), mine_norm(64);
  for (std::size_t s = 0; s < 64; ++s) {
    double b = 0, m = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      b += double{probe.blank_dir[static_cast<std::size_t>(i) * 64 + s]} *
           probe.blank_dir[static_cast<std::size_t>(i) * 64 + s];
      m += double{probe.mine_dir[static_cast<std::size_t>(i) * 64 + s]} *
           probe.mine_dir[static_cast<std::size_t>(i) * 64 + s];
    }
    blank_norm[s] = std::sqrt(b);
    mine_norm[s] = std::sqrt(m);
  }
  for (std::size_t u = 0; u < units; ++u) {
    const float* d = directions.rows.data() + u * static_cast<std::size_t>(n);
    const double norm = std::sqrt(dot(d, d, n, 1));
    for (std::size_t s = 0; s < 64; ++s) {
      const double b = norm * blank_norm[s], m = norm * mine_norm[s];
      out.blank[u * 64 + s] =
          b > 0 ? static_cast<float>(dot(d, probe.blank_dir.data() + s, n, 64) / b) : 0.0f;
      out.mine[u * 64 + s] =
          m > 0 ? static_cast<float>(dot(d, probe.mine_dir.data() + s, n, 64) / m) : 0.0f;
    }
  }
  return out;
}

}  // namespace othrun::dashboard
