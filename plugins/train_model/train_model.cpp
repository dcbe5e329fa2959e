// train_model: trains an Othello-GPT (TransformerLens architecture, any size) on synthetic games
// drawn on the fly, and saves it as a TransformerLens state dict .pth (docs/training.md).
//
// Checkpoints live beside the store's product files in `<store>.d/<label>.checkpoints/` (named from
// the product path and the step label, so a rerun of the same experiment finds them). The product
// itself is written only when training completes: a killed run leaves no product, and rerunning
// the experiment resumes from the newest checkpoint whose configuration matches.
#include <othrun/log.hpp>
#include <othrun/othello.hpp>
#include <othrun/plugin.hpp>
#include <othrun/pth.hpp>
#include <othrun/train/checkpoint_file.hpp>
#include <othrun/train/model_training.hpp>

#include <filesystem>

namespace othrun::train {

namespace {

template <class T>
void write_vector(Group& group, const std::string& name, const std::vector<T>& values,
                  const std::string& doc) {
  Dataset d = group.create_dataset<T>(name, {values.size()});
  if (!values.empty()) d.write_rows<T>(0, values);
  d.attrs().set("doc", doc);
}

void write_curves(Group& root, const Curves& c) {
  Group train = root.create_group("curve");
  write_vector(train, "step", c.step, "training step (updates done) of each logged value");
  write_vector(train, "loss", c.loss, "training next-move cross-entropy of that step's batch");
  write_vector(train, "lr", c.lr, "learning rate of that step");
  write_vector(train, "grad_norm", c.grad_norm, "global gradient norm before clipping");
  Group eval = root.create_group("eval");
  write_vector(eval, "step", c.eval_step, "training step of each evaluation");
  write_vector(eval, "legal_rate", c.eval_legal_rate,
               "held-out top-1 legal-move rate: argmax of the logits is a valid next move");
  write_vector(eval, "loss", c.eval_loss, "held-out next-move cross-entropy");
}

}  // namespace

class TrainModel : public Step {
 public:
  static constexpr const char* kName = "train_model";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema s("Trains an Othello-GPT on synthetic games; saves a TransformerLens .pth");
    s.integer("n_layers", 8, "transformer blocks").range(1, 64);
    s.integer("d_model", 512, "residual stream width").range(1, 8192);
    s.integer("n_heads", 8, "attention heads per block").range(1, 256);
    s.integer("d_head", 64, "width of each head").range(1, 1024);
    s.integer("d_mlp", 2048, "MLP hidden width").range(1, 65536);
    s.integer("n_ctx", 59, "context length (model input: the first n_ctx moves)").range(1, 59);
    s.choice("act_fn", {"gelu", "gelu_new"}, "gelu",
             "erf GELU (Othello-GPT) or tanh approximation");
    s.choice("games", {"full", "all"}, "full",
             "train and evaluate on 60-move games only (as the synthetic dataset) or all games");
    s.integer("batch_games", 64, "games per step (59 next-move targets each)").range(1, 1'000'000);
    s.integer("batch_shards", 8,
              "shards of consecutive games per batch, whose gradients are computed in parallel "
              "and summed in shard order (at most batch_games are used): the weights depend on "
              "this, not on --threads; more threads than shards stay idle")
        .range(1, 1'000'000);
    s.integer("steps", 1000, "optimiser steps").range(1, 1'000'000'000);
    s.real("lr", 1e-3, "peak learning rate").range(0, 10);
    s.integer("warmup_steps", 100, "linear warm-up steps").range(0, 1'000'000'000);
    s.choice("decay", {"cosine", "linear", "constant"}, "cosine", "decay after warm-up");
    s.real("final_lr_fraction", 0.1, "the decay ends at lr * this").range(0, 1);
    s.real("beta1", 0.9, "AdamW beta1").range(0, 1);
    s.real("beta2", 0.99, "AdamW beta2").range(0, 1);
    s.real("weight_decay", 0.01, "AdamW decoupled weight decay (matrices only)").range(0, 10);
    s.real("grad_clip", 1.0, "max global gradient norm (0: no clipping)").range(0, 1e9);
    s.real("init_std", 0.02, "std of the initial weight matrices").range(0, 10);
    s.path("init_from", "",
           "start from this TransformerLens .pth of the same config (e.g. an earlier train_model "
           "output) instead of random weights; the optimiser starts fresh (empty: random)")
        .existing();
    s.integer("seed", 0, "training seed (0: the step's seed from the experiment)").range(0, 9e18);
    s.integer("log_every", 50, "log and record the training loss every N steps").range(1, 1e9);
    s.integer("eval_every", 1000,
              "evaluate on held-out games every N steps (and at the end; "
              "0: only at the end)")
        .range(0, 1e9);
    s.integer("eval_games", 500, "held-out games (drawn from a separate seed stream)")
        .range(1, 1e7);
    s.integer("checkpoint_every", 1000, "save a resumable checkpoint every N steps (0: never)")
        .range(0, 1e9);
    s.integer("keep_checkpoints", 2, "newest checkpoints kept in the side folder").range(1, 1000);
    s.flag("keep_checkpoints_after", false,
           "keep the checkpoint folder once training completed (default: delete it)");
    s.path("output", "", "where to write the .pth (empty: <store>.d/<label>.pth)");
    s.provides("model");
    s.dataset("curve/step", DType::Int64, "log", "training step of each logged value");
    for (const char* name : {"curve/loss", "curve/lr", "curve/grad_norm"}) {
      s.dataset(name, DType::Float64, "log", "training loss, learning rate, gradient norm");
    }
    s.dataset("eval/step", DType::Int64, "eval", "training step of each evaluation");
    s.dataset("eval/legal_rate", DType::Float64, "eval", "held-out top-1 legal-move rate");
    s.dataset("eval/loss", DType::Float64, "eval", "held-out next-move cross-entropy");
    return s;
  }

  static void validate(const Config& c) {
    if (c.get_int("warmup_steps") > c.get_int("steps")) {
      throw ConfigError("warmup_steps", "is longer than steps");
    }
  }

  explicit TrainModel(const Config& c) : config_(c) {}

  void run(RunContext& ctx) override {
    ModelTrainingOptions o = options(ctx);
    const std::string label = ctx.output().label();
    o.checkpoint_dir = checkpoint_dir_for(ctx.output().path(), label);
    const auto path = config_.get_string("output").empty()
                          ? ctx.output().path().parent_path() / (label + ".pth")
                          : config_.get_path("output");
    log::info("train_model: {} ({} steps of {} games); checkpoints in {}", o.model.to_string(),
              o.steps, o.batch_games, o.checkpoint_dir.string());
    const ModelTrainingResult r = train_model(o);
    save_pth(path, make_state_dict(r.state));
    write_product(ctx.output().root(), o, r, path);
    if (!config_.get_bool("keep_checkpoints_after")) std::filesystem::remove_all(o.checkpoint_dir);
  }

 private:
  ModelTrainingOptions options(const RunContext& ctx) const {
    const Config& c = config_;
    ModelTrainingOptions o;
    o.model.n_layers = c.get_int("n_layers");
    o.model.d_model = c.get_int("d_model");
    o.model.n_heads = c.get_int("n_heads");
    o.model.d_head = c.get_int("d_head");
    o.model.d_mlp = c.get_int("d_mlp");
    o.model.n_ctx = c.get_int("n_ctx");
    o.model.act_fn =
        c.get_string("act_fn") == "gelu" ? gpt::Activation::GeluErf : gpt::Activation::GeluTanh;
    o.seed = c.get_int("seed") != 0 ? static_cast<std::uint64_t>(c.get_int("seed")) : ctx.seed();
    o.eval_seed = othello::mix64(o.seed ^ 0x5eed'e7a1'0000'0001ULL);  // a different stream
    o.full_games_only = c.get_string("games") == "full";
    o.batch_games = c.get_int("batch_games");
    o.batch_shards = c.get_int("batch_shards");
    o.steps = c.get_int("steps");
    o.schedule = {c.get_float("lr"), c.get_int("warmup_steps"), o.steps,
                  parse_decay(c.get_string("decay")), c.get_float("final_lr_fraction")};
    o.beta1 = c.get_float("beta1");
    o.beta2 = c.get_float("beta2");
    o.weight_decay = c.get_float("weight_decay");
    o.grad_clip = c.get_float("grad_clip");
    o.init_std = c.get_float("init_std");
    if (!c.get_string("init_from").empty()) o.init_from = c.get_path("init_from");
    o.log_every = c.get_int("log_every");
    o.eval_every = c.get_int("eval_every");
    o.eval_games = c.get_int("eval_games");
    o.checkpoint_every = c.get_int("checkpoint_every");
    o.keep_checkpoints = c.get_int("keep_checkpoints");
    o.threads = ctx.threads();
    return o;
  }

  static void write_product(Group& root, const ModelTrainingOptions& o,
                            const ModelTrainingResult& r, const std::filesystem::path& path) {
    auto a = root.attrs();
    a.set("model_path", path.string());
    a.set("model_format", "transformer_lens state dict (torch.save OrderedDict, LN unfolded)");
    a.set("model_config", o.model.to_string());
    a.set("training_fingerprint", o.fingerprint());
    a.set("n_layers", o.model.n_layers);
    a.set("d_model", o.model.d_model);
    a.set("n_heads", o.model.n_heads);
    a.set("d_head", o.model.d_head);
    a.set("d_mlp", o.model.d_mlp);
    a.set("n_ctx", o.model.n_ctx);
    a.set("seed", std::to_string(o.seed));  // uint64: as text
    a.set("eval_seed", std::to_string(o.eval_seed));
    a.set("steps", r.steps_done);
    a.set("resumed_from_step", r.resumed_from);
    a.set("init_from", o.init_from.string());
    a.set("games_drawn", static_cast<std::int64_t>(r.games_drawn));
    a.set("final_legal_rate", r.final_legal_rate);
    a.set("final_eval_loss", r.final_eval_loss);
    a.set("final_train_loss", r.curves.loss.empty() ? 0.0 : r.curves.loss.back());
    a.set("tokens_per_second", r.tokens_per_second);
    write_curves(root, r.curves);
  }

  Config config_;
};

}  // namespace othrun::train

OTHRUN_PLUGIN(othrun::train::TrainModel)
