// train_probe: trains the othello_world linear probe [3, d_model, 8, 8, 3] on one cached hook of an
// activations product and the games it was computed on; reports per-square accuracy on held-out
// games and saves the probe as torch.save of that one tensor (main_linear_probe.pth layout).
#include <othrun/analysis/inputs.hpp>
#include <othrun/games.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>
#include <othrun/pth.hpp>
#include <othrun/train/probe_training.hpp>

#include <cmath>

namespace othrun::train {

namespace {

struct ProbeRows {
  std::vector<float> x;
  std::vector<std::uint8_t> options;  // 0 empty, 1 white, 2 black
  std::vector<std::int8_t> mode;      // 0 black to play, 1 white to play, -1 game over
};

// Rows of games [first, first + count) at model positions [begin, end): position t is the state
// after move t (the games product's convention).
ProbeRows read_rows(const analysis::ActivationReader& acts, const games::GamesReader& games,
                    std::uint64_t first, std::uint64_t count, std::int64_t stored_start,
                    std::int64_t begin, std::int64_t end) {
  const std::vector<float> all = acts.read(first, count);
  const games::GameBatch batch = games.read(first, count);
  const auto width = static_cast<std::size_t>(acts.width());
  ProbeRows rows;
  std::array<std::int8_t, 64> board{};
  for (std::uint64_t g = 0; g < count; ++g) {
    for (std::int64_t t = begin; t < end && t < batch.length(g); ++t) {
      const float* x = all.data() + (g * static_cast<std::uint64_t>(acts.positions()) +
                                     static_cast<std::uint64_t>(t - stored_start)) *
                                        width;
      rows.x.insert(rows.x.end(), x, x + width);
      batch.board(g, static_cast<int>(t), games::Frame::BlackWhite, board);
      for (std::int8_t s : board) rows.options.push_back(analysis::state_code(s));
      const std::int8_t to_move = batch.to_move[games::GameBatch::index(g, static_cast<int>(t))];
      rows.mode.push_back(to_move > 0 ? 0 : to_move < 0 ? 1 : -1);
    }
  }
  return rows;
}

}  // namespace

class TrainProbe : public Step {
 public:
  static constexpr const char* kName = "train_probe";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema s("Trains the othello_world linear probe on cached activations");
    s.input("activations", "activations", "inference:blocks.6.hook_resid_post",
            "the cached hook to train on, LABEL:HOOK")
        .hook_dataset();
    s.input("games", "games", "games", "the games the activations were computed on");
    s.retired("hook",
              "name the hook in the input: activations: LABEL:HOOK, e.g. "
              "activations: inference:blocks.6.hook_resid_post");
    s.positions("positions", "5:54", "model positions trained on, \"first:stop\"")
        .within("activations");
    s.real("lr", 1e-3, "AdamW learning rate").range(0, 10);
    s.real("weight_decay", 0.01, "AdamW weight decay").range(0, 10);
    s.integer("steps", 2000, "optimiser steps per mode").range(1, 1e9);
    s.integer("batch_rows", 1024, "rows per step").range(1, 1e7);
    s.real("holdout_fraction", 0.1, "last games held out for the accuracy").range(0.01, 0.9);
    s.path("output", "", "probe file (empty: <store>.d/<label>.pth)");
    s.integer("seed", 0, "seed (0: the step's seed)").range(0, 9e18);
    s.provides("probe");
    s.dataset("accuracy", DType::Float64, "mode,square", "held-out accuracy per mode and square");
    return s;
  }

  explicit TrainProbe(const Config& c) : c_(c) {}

  void run(RunContext& ctx) override {
    const Product& product = ctx.input("activations");
    const analysis::ActivationReader acts(product, c_.input_dataset("activations"));
    const games::GamesReader games(ctx.input("games"));
    analysis::check_alignment(acts.games(), std::min<std::uint64_t>(games.size(), acts.games()),
                              acts.span(), "activations and games");
    const std::int64_t start = acts.span().first;
    const PositionRange wanted = c_.get_positions("positions");
    const std::int64_t begin = std::max(start, wanted.begin);
    const std::int64_t end = wanted.stop < 0 ? start + acts.positions()
                                             : std::min(start + acts.positions(), wanted.stop);
    const auto holdout =
        std::max<std::uint64_t>(1, static_cast<std::uint64_t>(c_.get_float("holdout_fraction") *
                                                              static_cast<double>(acts.games())));
    if (acts.games() <= holdout || end <= begin) throw DataError("train_probe: no training rows");
    const std::uint64_t n_train = acts.games() - holdout;
    const ProbeRows train = read_rows(acts, games, 0, n_train, start, begin, end);
    const ProbeRows test = read_rows(acts, games, n_train, holdout, start, begin, end);

    ProbeTrainingOptions o;
    o.d_model = acts.width();
    o.lr = c_.get_float("lr");
    o.weight_decay = c_.get_float("weight_decay");
    o.steps = c_.get_int("steps");
    o.batch_rows = c_.get_int("batch_rows");
    o.seed = c_.get_int("seed") != 0 ? static_cast<std::uint64_t>(c_.get_int("seed")) : ctx.seed();
    o.threads = ctx.threads();
    const std::vector<float> probe = train_probe(train.x, train.options, train.mode, o);
    const std::vector<double> accuracy =
        probe_accuracy(probe, o.d_model, test.x, test.options, test.mode);

    const auto path = c_.get_string("output").empty()
                          ? ctx.output().path().parent_path() / (ctx.output().label() + ".pth")
                          : c_.get_path("output");
    save_pth(path, PyValue(HostTensor::from_values<float>({3, o.d_model, 8, 8, 3}, probe)));
    Group& root = ctx.output().root();
    Dataset d = root.create_dataset<double>("accuracy", {3, 64});
    d.write_rows<double>(0, accuracy);
    d.attrs().set(
        "doc",
        "held-out accuracy [mode, square]: argmax over {empty, white, black}; modes 0 black "
        "to play, 1 white to play, 2 all");
    auto a = root.attrs();
    a.set("probe_path", path.string());
    a.set("hook", acts.hook());
    a.set("positions", std::vector<std::int64_t>{begin, end});
    for (int m = 0; m < 3; ++m) {
      double sum = 0;
      for (int s = 0; s < 64; ++s) sum += accuracy[static_cast<std::size_t>(m * 64 + s)];
      a.set(fmt::format("mean_accuracy_mode{}", m), sum / 64);
      log::info("train_probe: mode {} held-out mean accuracy {:.4f}", m, sum / 64);
    }
  }

 private:
  Config c_;
};

}  // namespace othrun::train

OTHRUN_PLUGIN(othrun::train::TrainProbe)
