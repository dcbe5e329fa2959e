#include "options.hpp"

#include <othrun/error.hpp>
#include <othrun/hooks.hpp>
#include <othrun/torch/checkpoint.hpp>
#include <othrun/torch/model_config.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include <othrun/games.hpp>

#include "activation_writer.hpp"

namespace othrun::inference {

namespace {

gpt::LogitsOutput parse_logits(const std::string& text) {
  if (text == "logits") return gpt::LogitsOutput::Logits;
  if (text == "log_probs") return gpt::LogitsOutput::LogProbs;
  return gpt::LogitsOutput::None;
}

// The hooks' layers and the first position, checked against the model file's shapes (read without
// LibTorch, no model is built). A file an earlier step writes is checked when the step runs.
void check_against_model(const Config& config, const PositionRange& positions) {
  const std::filesystem::path model = config.get_path("model");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model, ec)) return;
  gpt::ModelConfig shape;
  try {
    const auto checkpoint = gpt::load_checkpoint(
        model, gpt::parse_checkpoint_format(config.get_string("format")),
        config.has("n_heads") ? std::optional<std::int64_t>(config.get_int("n_heads"))
                              : std::nullopt);
    shape = gpt::infer_config(checkpoint.tensors, model.string());
  } catch (const Error& error) {
    throw ConfigError("model", error.what());
  }
  for (const std::string& hook : config.get_strings("hooks")) {
    try {
      resolve_hook(hook, shape.n_layers);
    } catch (const Error& error) {
      throw ConfigError("hooks", std::string(error.what()) + " in " + model.filename().string());
    }
  }
  const std::int64_t n_pos = std::min<std::int64_t>(games::kPositions - 1, shape.n_ctx);
  if (positions.begin >= n_pos) {
    throw ConfigError("positions", fmt::format("first position {} is past the model input's {} "
                                               "positions",
                                               positions.begin, n_pos));
  }
}

}  // namespace

PositionRange parse_positions(const std::string& text) {
  try {
    const othrun::PositionRange range = parse_position_range(text);
    return {range.begin, range.stop};
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& error) {
    throw ConfigError("positions", error.what());
  }
}

Schema describe_schema() {
  Schema s(
      "Runs Othello-GPT (TransformerLens-exact; LibTorch on the CPU, or CUDA) over games and "
      "caches hooks");
  s.input("games", "games", "games", "the games to run (model input: tokens[:, :-1])");
  s.path("model", std::nullopt,
         "checkpoint: .pth or .safetensors (TransformerLens or minGPT state dict)")
      .existing();
  s.choice("format", {"auto", "transformer_lens", "mingpt"}, "auto", "checkpoint layout");
  s.integer("n_heads", std::nullopt,
            "heads of a minGPT checkpoint whose file does not record them (no guess: required "
            "then; 8 for the original Othello-GPT)")
      .range(1, 1024)
      .optional = true;
  s.choice("act_fn", {"gelu", "gelu_new"}, "gelu", "MLP activation: exact erf GELU or tanh");
  s.flag("fold_ln", true, "fold LayerNorm weights into the next layer (from_pretrained default)");
  s.flag("center_writing_weights", true, "centre weights writing to the residual stream");
  s.flag("center_unembed", true, "centre W_U, b_U over the vocabulary");
  s.flag("fold_value_biases", true, "fold b_V into b_O");
  s.choice("device", {"cpu", "cuda", "auto"}, "auto",
           "cpu, cuda (refused at validation, with the reason, where no GPU is usable), or auto: "
           "CUDA when this build has it and a GPU is usable, else the CPU");
  s.hooks("hooks", std::vector<std::string>{"blocks.6.hook_resid_pre"},
          "hooks to cache: TransformerLens names or shorthand name.layer / name:layer "
          "(resid_pre.6, post:0); each must exist in the model (checked against its file)");
  s.positions("positions", "all",
              "model positions kept: all, or first:stop (Python slice, e.g. \"5:54\")");
  s.choice("dtype", {"float32", "float16"}, "float32", "stored element type of activations");
  s.choice("logits", {"none", "logits", "log_probs"}, "none", "also store logits or log-probs");
  s.integer("batch_games", 100,
            "games per forward pass (memory is bounded by it; on a GPU, lowered to what fits)")
      .range(1, 100000);
  s.integer("max_games", 0, "run only the first max_games games; 0: all").range(0, 1e12);
  s.integer("board_game", 0, "log-prob board: the game whose prefix is used").range(0, 1e12);
  s.integer("board_moves", 30, "log-prob board: prefix length in moves; 0: no board").range(0, 59);
  s.provides("activations");
  s.data_parallel();
  DatasetDecl hook{"HOOK",
                   DType::Float32,
                   "game,pos,...",
                   "one per `hooks` entry, named by its full hook name: float32 (or float16 with "
                   "dtype: float16) [games, positions kept, ...] with attributes hook, axes, "
                   "positions_start, positions_stop",
                   "HOOK",
                   std::nullopt};
  s.dataset(hook);
  s.dataset("logits", DType::Float32, "game,pos,d_vocab_out",
            "with logits: logits (or log_probs, named so): [games, positions kept, 61]");
  s.dataset("logprob_board/log_probs", DType::Float32, "row,col",
            "with board_moves > 0: the notebook's log-prob board");
  s.dataset("logprob_board/mask", DType::UInt8, "row,col", "1 on the four centre squares");
  return s;
}

DatasetDecls produces_datasets(const Config& config) {
  const othrun::PositionRange positions = config.get_positions("positions");
  const DType dtype = config.get_string("dtype") == "float16" ? DType::Float16 : DType::Float32;
  DatasetDecls out;
  for (const std::string& hook : config.get_strings("hooks")) {
    out.push_back(
        DatasetDecl{hook, dtype, stored_axes(hook), "cached activations", hook, positions});
  }
  const std::string logits = config.get_string("logits");
  if (logits != "none") {
    out.push_back(
        DatasetDecl{logits, dtype, stored_axes(logits), "model output", logits, positions});
  }
  if (config.get_int("board_moves") > 0) {
    out.push_back(
        {"logprob_board/log_probs", DType::Float32, "row,col", "log-prob board", "", std::nullopt});
    out.push_back(
        {"logprob_board/mask", DType::UInt8, "row,col", "centre squares", "", std::nullopt});
  }
  return out;
}

void validate_config(const Config& config) {
  for (const std::string& hook : config.get_strings("hooks")) {
    if (auto error = hook_syntax_error(hook)) throw ConfigError("hooks", *error);
  }
  const PositionRange positions = parse_positions(config.get_string("positions"));
  check_against_model(config, positions);
}

Options parse_options(const Config& config) {
  Options o;
  o.model = config.get_path("model");
  o.load.format = gpt::parse_checkpoint_format(config.get_string("format"));
  if (config.has("n_heads")) o.load.mingpt_n_heads = config.get_int("n_heads");
  o.load.act_fn =
      config.get_string("act_fn") == "gelu" ? gpt::Activation::GeluErf : gpt::Activation::GeluTanh;
  o.load.process = {config.get_bool("fold_ln"), config.get_bool("center_writing_weights"),
                    config.get_bool("center_unembed"), config.get_bool("fold_value_biases")};
  o.hooks = config.get_strings("hooks");
  o.positions = parse_positions(config.get_string("positions"));
  o.float16 = config.get_string("dtype") == "float16";
  o.logits = parse_logits(config.get_string("logits"));
  o.batch_games = config.get_int("batch_games");
  o.max_games = config.get_int("max_games");
  o.board_game = config.get_int("board_game");
  o.board_moves = config.get_int("board_moves");
  return o;
}

}  // namespace othrun::inference
