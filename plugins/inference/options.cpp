#include "options.hpp"

#include <othrun/error.hpp>
#include <othrun/torch/hooks.hpp>

#include <fmt/format.h>

#include <charconv>

namespace othrun::inference {

namespace {

std::int64_t parse_bound(std::string_view text, std::int64_t empty_value, const std::string& all) {
  if (text.empty()) return empty_value;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    throw ConfigError("positions", fmt::format("'{}' is not 'all' or a range 'first:stop' of "
                                               "non-negative positions (e.g. 5:54)",
                                               all));
  }
  return value;
}

gpt::LogitsOutput parse_logits(const std::string& text) {
  if (text == "logits") return gpt::LogitsOutput::Logits;
  if (text == "log_probs") return gpt::LogitsOutput::LogProbs;
  return gpt::LogitsOutput::None;
}

}  // namespace

PositionRange parse_positions(const std::string& text) {
  if (text == "all") return {};
  const auto colon = text.find(':');
  if (colon == std::string::npos) parse_bound("x", 0, text);  // throws
  const std::string_view view(text);
  PositionRange range{parse_bound(view.substr(0, colon), 0, text),
                      parse_bound(view.substr(colon + 1), -1, text)};
  if (range.end >= 0 && range.end <= range.begin) {
    throw ConfigError("positions", fmt::format("'{}' is an empty range", text));
  }
  return range;
}

Schema describe_schema() {
  Schema s("Runs Othello-GPT (TransformerLens-exact, LibTorch) over games and caches hooks");
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
           "cpu; auto takes CUDA when a cuda_inference plugin is available (none yet: CPU)");
  s.texts("hooks", std::vector<std::string>{"blocks.6.hook_resid_pre"},
          "hooks to cache: TransformerLens names or shorthand name.layer / name:layer "
          "(resid_pre.6, post:0)");
  s.text("positions", "all", "positions kept: all, or first:stop (Python slice, e.g. 5:54)");
  s.choice("dtype", {"float32", "float16"}, "float32", "stored element type of activations");
  s.choice("logits", {"none", "logits", "log_probs"}, "none", "also store logits or log-probs");
  s.integer("batch_games", 100, "games per forward pass (memory is bounded by it)")
      .range(1, 100000);
  s.integer("max_games", 0, "run only the first max_games games; 0: all").range(0, 1e12);
  s.integer("board_game", 0, "log-prob board: the game whose prefix is used").range(0, 1e12);
  s.integer("board_moves", 30, "log-prob board: prefix length in moves; 0: no board").range(0, 59);
  s.provides("activations");
  return s;
}

void validate_config(const Config& config) {
  if (config.get_string("device") == "cuda") {
    throw ConfigError("device",
                      "no CUDA inference plugin is available (cuda_inference is not built); use "
                      "device: cpu or auto");
  }
  for (const std::string& hook : config.get_strings("hooks")) {
    if (auto error = gpt::hook_syntax_error(hook)) throw ConfigError("hooks", *error);
  }
  parse_positions(config.get_string("positions"));
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
