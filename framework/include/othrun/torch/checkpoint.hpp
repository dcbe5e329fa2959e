// Reading Othello-GPT checkpoints into the TransformerLens state-dict layout, without LibTorch:
// torch.save files (.pth/.pt) of a TransformerLens or a minGPT state dict, and safetensors files
// (either layout). minGPT weights are converted as docs/inference.md describes (as views on
// the file's storage where possible: no copies).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <othrun/tensor.hpp>

namespace othrun::gpt {

enum class CheckpointFormat { Auto, TransformerLens, MinGPT };

const char* to_string(CheckpointFormat format);
// "auto", "transformer_lens", "mingpt"; throws othrun::Error otherwise.
CheckpointFormat parse_checkpoint_format(const std::string& text);

struct LoadedCheckpoint {
  std::filesystem::path path;
  CheckpointFormat format = CheckpointFormat::TransformerLens;  // what the file held
  std::vector<NamedTensor> tensors;  // TransformerLens names; ignored buffers already dropped
};

// Which layout `tensors` (as named in the file) are in: minGPT when tok_emb.weight is present,
// TransformerLens when embed.W_E is; otherwise a DataError naming `source` and a few keys.
CheckpointFormat detect_format(const std::vector<NamedTensor>& tensors, const std::string& source);

// Converts a minGPT state dict into TransformerLens names and layouts (b_U = zeros). Throws
// othrun::DataError naming `source` and every missing, unexpected or mis-shaped minGPT key.
// minGPT's attention weights do not tell the head count (any divisor of d_model splits them):
// `n_heads` must be given; nullopt is refused with an error saying so, never guessed.
std::vector<NamedTensor> convert_mingpt(const std::vector<NamedTensor>& tensors,
                                        const std::string& source,
                                        std::optional<std::int64_t> n_heads);

// Reads `path` (.safetensors by its extension, otherwise torch.save) and returns its tensors in the
// TransformerLens layout. Throws othrun::DataError naming the file on any problem. For a minGPT
// file, the head count is the one the file records beside the weights (`n_head` or `n_heads` at
// the top of the pickle or in its `config`/`cfg`/`model_config`/`model_args`/`hparams` entry, or in
// the safetensors metadata), else `n_heads`; both given and different is an error.
LoadedCheckpoint load_checkpoint(const std::filesystem::path& path,
                                 CheckpointFormat format = CheckpointFormat::Auto,
                                 std::optional<std::int64_t> n_heads = std::nullopt);

}  // namespace othrun::gpt
