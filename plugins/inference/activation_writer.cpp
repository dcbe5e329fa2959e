#include "activation_writer.hpp"

#include <chrono>
#include <span>

namespace othrun::inference {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Attention scores and patterns come as [batch, head, query, key]; the store keeps positions on
// axis 1 for every hook, so they are stored as [game, query, head, key].
bool is_attention_map(const std::string& name) {
  return ends_with(name, "hook_attn_scores") || ends_with(name, "hook_pattern");
}

HostTensor to_stored_layout(const std::string& name, const HostTensor& t) {
  if (!is_attention_map(name)) return t.contiguous();
  const auto& s = t.shape();
  const auto& st = t.strides();
  return HostTensor(t.dtype(), {s[0], s[2], s[1], s[3]}, {st[0], st[2], st[1], st[3]}, t.offset(),
                    t.storage())
      .contiguous();
}

}  // namespace

std::string stored_axes(const std::string& name) {
  if (is_attention_map(name)) return "game,query_pos,head,key_pos";
  if (ends_with(name, "hook_scale")) return "game,pos,1";
  if (ends_with(name, "hook_q") || ends_with(name, "hook_k") || ends_with(name, "hook_v") ||
      ends_with(name, "hook_z")) {
    return "game,pos,head,d_head";
  }
  if (ends_with(name, "mlp.hook_pre") || ends_with(name, "mlp.hook_post")) return "game,pos,d_mlp";
  if (name == "logits" || name == "log_probs") return "game,pos,d_vocab_out";
  return "game,pos,d_model";
}

ActivationWriter::ActivationWriter(const Ranks& ranks, Group& root, std::uint64_t n_games,
                                   bool float16, std::int64_t pos_begin, std::int64_t pos_end)
    : ranks_(ranks),
      root_(root),
      n_games_(n_games),
      float16_(float16),
      pos_begin_(pos_begin),
      pos_end_(pos_end) {}

Dataset& ActivationWriter::dataset_for(const std::string& name, const HostTensor& rows) {
  auto it = datasets_.find(name);
  if (it != datasets_.end()) return it->second;
  std::vector<std::uint64_t> shape{n_games_};
  for (std::size_t d = 1; d < rows.dim(); ++d) {
    shape.push_back(static_cast<std::uint64_t>(rows.shape()[d]));
  }
  Dataset dataset =
      root_.create_dataset<float>(name, shape, {}, float16_ ? DType::Float16 : DType::Float32);
  dataset.attrs().set("hook", name);
  dataset.attrs().set("axes", stored_axes(name));
  dataset.attrs().set("positions_start", pos_begin_);
  dataset.attrs().set("positions_stop", pos_end_);
  split_rows(ranks_, dataset);
  return datasets_.emplace(name, std::move(dataset)).first->second;
}

void ActivationWriter::write_rows(std::uint64_t first, const std::string& name,
                                  const HostTensor& rows) {
  dataset_for(name, rows)
      .write_rows<float>(first, std::span<const float>(rows.data_as<float>(),
                                                       static_cast<std::size_t>(rows.numel())));
}

void ActivationWriter::write(std::uint64_t first, const gpt::Cache& cache) {
  const auto start = std::chrono::steady_clock::now();
  // Contiguous float32 already (the model returns it so): written straight from its memory.
  for (const auto& [name, tensor] : cache) write_rows(first, name, to_stored_layout(name, tensor));
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void ActivationWriter::write_stored(std::uint64_t first, const gpt::Cache& cache) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& [name, tensor] : cache) write_rows(first, name, tensor.contiguous());
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace othrun::inference
