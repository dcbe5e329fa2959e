// Checkpoint files -> TransformerLens-layout tensors: format detection and the minGPT conversion.
// The conversion builds strided views on the file's storage, so it copies nothing.
#include <othrun/error.hpp>
#include <othrun/finite.hpp>
#include <othrun/pth.hpp>
#include <othrun/safetensors.hpp>
#include <othrun/torch/checkpoint.hpp>
#include <othrun/torch/model_config.hpp>

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <regex>
#include <set>

namespace othrun::gpt {

const char* to_string(CheckpointFormat format) {
  switch (format) {
    case CheckpointFormat::Auto:
      return "auto";
    case CheckpointFormat::TransformerLens:
      return "transformer_lens";
    case CheckpointFormat::MinGPT:
      return "mingpt";
  }
  return "?";
}

CheckpointFormat parse_checkpoint_format(const std::string& text) {
  for (CheckpointFormat f :
       {CheckpointFormat::Auto, CheckpointFormat::TransformerLens, CheckpointFormat::MinGPT}) {
    if (text == to_string(f)) return f;
  }
  throw Error(fmt::format("unknown checkpoint format '{}' (auto, transformer_lens, mingpt)", text));
}

namespace {

using Shape = HostTensor::Shape;

std::string first_keys(const std::vector<NamedTensor>& tensors) {
  std::string out;
  for (std::size_t i = 0; i < tensors.size() && i < 5; ++i) {
    out += (i ? ", " : "") + tensors[i].name;
  }
  return tensors.size() > 5 ? out + ", ..." : out;
}

// A view of `t` with another shape and strides (elements) over the same storage.
HostTensor view(const HostTensor& t, Shape shape, Shape strides) {
  return HostTensor(t.dtype(), std::move(shape), std::move(strides), t.offset(), t.storage());
}

HostTensor transposed(const HostTensor& t) {
  return view(t, {t.shape()[1], t.shape()[0]}, {t.strides()[1], t.strides()[0]});
}

struct MinGptDims {
  std::int64_t layers = 0, d_model = 0, vocab = 0, n_ctx = 0, d_mlp = 0, vocab_out = 0;
};

std::int64_t dim_of(const std::map<std::string, const HostTensor*>& in, const std::string& key,
                    std::size_t axis, const std::string& source) {
  auto it = in.find(key);
  if (it == in.end()) {
    throw DataError(fmt::format("{}: minGPT state dict: missing key {}", source, key));
  }
  if (it->second->dim() <= axis) {
    throw DataError(
        fmt::format("{}: minGPT state dict: {} has shape {}, expected at least {} "
                    "dimensions",
                    source, key, shape_string(it->second->shape()), axis + 1));
  }
  return it->second->shape()[axis];
}

// The minGPT keys and shapes expected for `d`.
std::map<std::string, Shape> mingpt_shapes(const MinGptDims& d) {
  std::map<std::string, Shape> s;
  s["tok_emb.weight"] = {d.vocab, d.d_model};
  s["pos_emb"] = {1, d.n_ctx, d.d_model};
  for (std::int64_t l = 0; l < d.layers; ++l) {
    const std::string p = fmt::format("blocks.{}.", l);
    for (const char* ln : {"ln1", "ln2"}) {
      s[p + ln + ".weight"] = {d.d_model};
      s[p + ln + ".bias"] = {d.d_model};
    }
    for (const char* m : {"query", "key", "value", "proj"}) {
      s[p + "attn." + m + ".weight"] = {d.d_model, d.d_model};
      s[p + "attn." + m + ".bias"] = {d.d_model};
    }
    s[p + "mlp.0.weight"] = {d.d_mlp, d.d_model};
    s[p + "mlp.0.bias"] = {d.d_mlp};
    s[p + "mlp.2.weight"] = {d.d_model, d.d_mlp};
    s[p + "mlp.2.bias"] = {d.d_model};
  }
  s["ln_f.weight"] = {d.d_model};
  s["ln_f.bias"] = {d.d_model};
  s["head.weight"] = {d.vocab_out, d.d_model};
  return s;
}

void check_mingpt(const std::map<std::string, const HostTensor*>& in, const MinGptDims& d,
                  const std::string& source) {
  static const std::regex buffer(R"(^blocks\.\d+\.attn\.mask$)");
  const auto expected = mingpt_shapes(d);
  std::string missing, unexpected, shapes;
  auto add = [](std::string& list, const std::string& item) {
    list += (list.empty() ? "" : ", ") + item;
  };
  for (const auto& [key, shape] : expected) {
    auto it = in.find(key);
    if (it == in.end()) {
      add(missing, key);
    } else if (it->second->shape() != shape) {
      add(shapes, fmt::format("{} {} (expected {})", key, shape_string(it->second->shape()),
                              shape_string(shape)));
    }
  }
  for (const auto& [key, tensor] : in) {
    if (!expected.count(key) && !std::regex_match(key, buffer)) add(unexpected, key);
  }
  if (missing.empty() && unexpected.empty() && shapes.empty()) return;
  std::string message = fmt::format(
      "{}: minGPT state dict does not match its own shapes "
      "(n_layers={} d_model={} d_mlp={} d_vocab={} n_ctx={})",
      source, d.layers, d.d_model, d.d_mlp, d.vocab, d.n_ctx);
  if (!missing.empty()) message += "; missing keys: " + missing;
  if (!unexpected.empty()) message += "; unexpected keys: " + unexpected;
  if (!shapes.empty()) message += "; wrong shapes: " + shapes;
  throw DataError(message);
}

MinGptDims mingpt_dims(const std::map<std::string, const HostTensor*>& in,
                       const std::string& source) {
  static const std::regex block(R"(^blocks\.(\d+)\.)");
  MinGptDims d;
  d.vocab = dim_of(in, "tok_emb.weight", 0, source);
  d.d_model = dim_of(in, "tok_emb.weight", 1, source);
  d.n_ctx = dim_of(in, "pos_emb", 1, source);
  d.d_mlp = dim_of(in, "blocks.0.mlp.0.weight", 0, source);
  d.vocab_out = dim_of(in, "head.weight", 0, source);
  for (const auto& [key, tensor] : in) {
    std::smatch m;
    if (std::regex_search(key, m, block)) {
      d.layers = std::max<std::int64_t>(d.layers, std::stoll(m[1].str()) + 1);
    }
  }
  return d;
}

// minGPT's [(head d_head), d_model] projection -> TransformerLens' [head, d_model, d_head].
HostTensor split_heads_in(const HostTensor& w, std::int64_t heads) {
  const std::int64_t d_head = w.shape()[0] / heads;
  const Shape& s = w.strides();
  return view(w, {heads, w.shape()[1], d_head}, {d_head * s[0], s[1], s[0]});
}

// minGPT's proj [d_model, (head d_head)] -> TransformerLens' W_O [head, d_head, d_model].
HostTensor split_heads_out(const HostTensor& w, std::int64_t heads) {
  const std::int64_t d_head = w.shape()[1] / heads;
  const Shape& s = w.strides();
  return view(w, {heads, d_head, w.shape()[0]}, {d_head * s[1], s[1], s[0]});
}

HostTensor split_bias(const HostTensor& b, std::int64_t heads) {
  const std::int64_t d_head = b.shape()[0] / heads;
  return view(b, {heads, d_head}, {d_head * b.strides()[0], b.strides()[0]});
}

void convert_block(const std::map<std::string, const HostTensor*>& in, std::int64_t layer,
                   std::int64_t heads, std::vector<NamedTensor>& out) {
  const std::string src = fmt::format("blocks.{}.", layer);
  const std::string dst = src;
  auto get = [&](const std::string& key) -> const HostTensor& { return *in.at(src + key); };
  out.push_back({dst + "ln1.w", get("ln1.weight")});
  out.push_back({dst + "ln1.b", get("ln1.bias")});
  const std::pair<const char*, const char*> qkv[] = {{"query", "Q"}, {"key", "K"}, {"value", "V"}};
  for (const auto& [from, to] : qkv) {
    out.push_back(
        {dst + "attn.W_" + to, split_heads_in(get(fmt::format("attn.{}.weight", from)), heads)});
    out.push_back(
        {dst + "attn.b_" + to, split_bias(get(fmt::format("attn.{}.bias", from)), heads)});
  }
  out.push_back({dst + "attn.W_O", split_heads_out(get("attn.proj.weight"), heads)});
  out.push_back({dst + "attn.b_O", get("attn.proj.bias")});
  out.push_back({dst + "ln2.w", get("ln2.weight")});
  out.push_back({dst + "ln2.b", get("ln2.bias")});
  out.push_back({dst + "mlp.W_in", transposed(get("mlp.0.weight"))});
  out.push_back({dst + "mlp.b_in", get("mlp.0.bias")});
  out.push_back({dst + "mlp.W_out", transposed(get("mlp.2.weight"))});
  out.push_back({dst + "mlp.b_out", get("mlp.2.bias")});
}

std::vector<NamedTensor> drop_buffers(std::vector<NamedTensor> tensors) {
  std::erase_if(tensors, [](const NamedTensor& t) { return is_ignored_buffer(t.name); });
  return tensors;
}

// A head count stored beside the weights, and where ("config.n_head").
struct RecordedHeads {
  std::int64_t heads = 0;
  std::string where;
};

const char* const kHeadKeys[] = {"n_head", "n_heads"};
const char* const kConfigKeys[] = {"config", "cfg", "model_config", "model_args", "hparams"};

std::int64_t head_count(const PyValue& value, const std::string& where, const std::string& source) {
  if (value.kind() != PyValue::Kind::Int || value.as_int() <= 0) {
    throw DataError(fmt::format("{}: {} is {}, expected a positive integer head count", source,
                                where, value.repr()));
  }
  return value.as_int();
}

// A state dict saved by itself (torch.save(model.state_dict()), as minGPT's trainer does) has
// none; a checkpoint saved with its config has one.
std::optional<RecordedHeads> recorded_heads(const PyValue& root, const std::string& source) {
  if (root.kind() != PyValue::Kind::Dict && root.kind() != PyValue::Kind::Object)
    return std::nullopt;
  for (const char* key : kHeadKeys) {
    if (const PyValue* value = root.find(key))
      return RecordedHeads{head_count(*value, key, source), key};
  }
  for (const char* config : kConfigKeys) {
    const PyValue* entry = root.find(config);
    if (!entry || (entry->kind() != PyValue::Kind::Dict && entry->kind() != PyValue::Kind::Object))
      continue;
    for (const char* key : kHeadKeys) {
      if (const PyValue* value = entry->find(key)) {
        const std::string where = std::string(config) + "." + key;
        return RecordedHeads{head_count(*value, where, source), where};
      }
    }
  }
  return std::nullopt;
}

std::optional<RecordedHeads> recorded_heads(const std::map<std::string, std::string>& metadata,
                                            const std::string& source) {
  for (const char* key : kHeadKeys) {
    auto it = metadata.find(key);
    if (it == metadata.end()) continue;
    std::int64_t heads = 0;
    const char* end = it->second.data() + it->second.size();
    const auto parsed = std::from_chars(it->second.data(), end, heads);
    if (parsed.ec != std::errc() || parsed.ptr != end || heads <= 0) {
      throw DataError(fmt::format("{}: metadata {} is '{}', expected a positive integer", source,
                                  key, it->second));
    }
    return RecordedHeads{heads, std::string("metadata ") + key};
  }
  return std::nullopt;
}

}  // namespace

CheckpointFormat detect_format(const std::vector<NamedTensor>& tensors, const std::string& source) {
  if (find_tensor(tensors, "tok_emb.weight") != nullptr) return CheckpointFormat::MinGPT;
  if (find_tensor(tensors, "embed.W_E") != nullptr) return CheckpointFormat::TransformerLens;
  throw DataError(
      fmt::format("{}: neither a TransformerLens state dict (no embed.W_E) nor a minGPT one (no "
                  "tok_emb.weight); its first keys: {}",
                  source, tensors.empty() ? std::string("(no tensors)") : first_keys(tensors)));
}

std::vector<NamedTensor> convert_mingpt(const std::vector<NamedTensor>& tensors,
                                        const std::string& source,
                                        std::optional<std::int64_t> n_heads) {
  std::map<std::string, const HostTensor*> in;
  for (const NamedTensor& t : tensors) in[t.name] = &t.tensor;
  const MinGptDims d = mingpt_dims(in, source);
  check_mingpt(in, d, source);
  if (!n_heads) {
    throw DataError(fmt::format(
        "{}: a minGPT state dict does not record its head count (its attention weights split "
        "into any number of heads dividing d_model={}); state it with n_heads (8 for the original "
        "Othello-GPT's final.pth)",
        source, d.d_model));
  }
  if (*n_heads <= 0 || d.d_model % *n_heads != 0) {
    throw DataError(
        fmt::format("{}: d_model {} is not divisible by n_heads {}", source, d.d_model, *n_heads));
  }
  std::vector<NamedTensor> out;
  out.push_back({"embed.W_E", *in.at("tok_emb.weight")});
  const HostTensor& pos = *in.at("pos_emb");
  out.push_back(
      {"pos_embed.W_pos", view(pos, {d.n_ctx, d.d_model}, {pos.strides()[1], pos.strides()[2]})});
  for (std::int64_t layer = 0; layer < d.layers; ++layer) convert_block(in, layer, *n_heads, out);
  out.push_back({"ln_final.w", *in.at("ln_f.weight")});
  out.push_back({"ln_final.b", *in.at("ln_f.bias")});
  out.push_back({"unembed.W_U", transposed(*in.at("head.weight"))});
  // The minGPT head has no bias: TransformerLens' conversion sets b_U to zeros.
  out.push_back({"unembed.b_U", HostTensor(in.at("head.weight")->dtype(), {d.vocab_out})});
  return out;
}

LoadedCheckpoint load_checkpoint(const std::filesystem::path& path, CheckpointFormat format,
                                 std::optional<std::int64_t> n_heads) {
  const std::string source = path.string();
  std::vector<NamedTensor> tensors;
  std::optional<RecordedHeads> recorded;
  if (path.extension() == ".safetensors") {
    SafetensorsFile file = load_safetensors(path);
    recorded = recorded_heads(file.metadata, source);
    tensors = std::move(file.tensors);
  } else {
    PthFile file = load_pth(path);
    recorded = recorded_heads(file.root, source);
    tensors = std::move(file.tensors);
  }
  for (const NamedTensor& t : tensors) warn_non_finite(t.tensor, t.name, source);
  LoadedCheckpoint out;
  out.path = path;
  out.format = format == CheckpointFormat::Auto ? detect_format(tensors, source) : format;
  if (out.format == CheckpointFormat::MinGPT) {
    if (recorded && n_heads && *n_heads != recorded->heads) {
      throw DataError(fmt::format("{}: the file records {}={}, but n_heads is {}", source,
                                  recorded->where, recorded->heads, *n_heads));
    }
    out.tensors = convert_mingpt(tensors, source, recorded ? recorded->heads : n_heads);
  } else {
    out.tensors = drop_buffers(std::move(tensors));
  }
  return out;
}

}  // namespace othrun::gpt
