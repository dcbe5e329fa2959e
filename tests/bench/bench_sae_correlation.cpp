// Benchmark of sae_correlation at the seed's full scale: a 4,096-feature SAE over 100,000 games
// (5.9 million positions). See docs/analyses.md ("Benchmark") and scripts/bench_sae_correlation.sh.
//
//   bench_sae_correlation DIR [games=100000] [d_sae=4096] [l0=32] [threads=2] [encode_games=100]
//                         [chunk_games=256] [compare=1]
//
// 1. writes a games product of `games` random full-length games into DIR/bench.h5;
// 2. writes a features product in sae_encode's layout (float16 values, int16 indices) whose rows
//    hold `l0` random features each with exponential values: the size of a real SAE's output
//    (the activations and the SAE forward are not part of this measurement, see 4.);
// 3. times sae_correlation's accumulate + write_results on them, split into reading the features,
//    reading the games (and building the labels), and accumulating;
// 3b. with compare=1: times the accumulation before and after its per-feature regrouping on the
//    same chunks, interleaved, and checks both give the same numbers (row_by_row_stats.hpp);
// 4. times the forward of a random-weight SAE (d_in 512) over `encode_games` games of Gaussian
//    activations, to estimate what encoding on the fly would add.
#include "correlation.hpp"
#include "row_by_row_stats.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/games.hpp>

#include <sys/resource.h>
#include <time.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace othrun;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds of the whole process (all threads): on a machine shared with other work, wall time
// says more about the neighbours than about the code.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Before/after of the accumulation on the same chunks, interleaved chunk by chunk (the order
// alternating) so that both sides see the same load; then checks that both hold the same numbers.
void compare_with_row_by_row(const analysis::FeatureReader& features,
                             const games::GamesReader& games, const sae_correlation::Options& o) {
  bench::RowByRowStats before(features.d_sae(), o.bins);
  analysis::FeatureClassStats after(features.d_sae(), o.bins);
  double wall[2] = {0, 0}, cpu[2] = {0, 0};
  std::vector<double> wall_ratio, cpu_ratio;
  const std::uint64_t n = features.games();
  for (std::uint64_t first = 0, chunk = 0; first < n; first += o.chunk_games, ++chunk) {
    const std::uint64_t count = std::min(o.chunk_games, n - first);
    const analysis::SparseRows rows = features.read(first, count);
    const auto labels = analysis::row_labels(games.read(first, count), features.span(),
                                             games::Frame::MineTheirs, o.convention);
    double w[2], c[2];
    for (int k = 0; k < 2; ++k) {
      const int side = (k + static_cast<int>(chunk)) % 2;
      const auto t = Clock::now();
      const double c0 = cpu_seconds();
      if (side == 0) {
        before.consume(rows, labels.codes, labels.keep, o.threads);
      } else {
        after.consume(rows, labels.codes, labels.keep, o.threads);
      }
      c[side] = cpu_seconds() - c0;
      w[side] = since(t);
    }
    for (int side = 0; side < 2; ++side) wall[side] += w[side], cpu[side] += c[side];
    wall_ratio.push_back(w[0] / w[1]);
    cpu_ratio.push_back(c[0] / c[1]);
  }
  std::printf("accumulation before/after, interleaved chunk by chunk (%zu chunks of %llu games):\n",
              wall_ratio.size(), static_cast<unsigned long long>(o.chunk_games));
  std::printf("  before (row by row):         wall %7.2f s, CPU %7.2f s\n", wall[0], cpu[0]);
  std::printf("  after (grouped by feature):  wall %7.2f s, CPU %7.2f s\n", wall[1], cpu[1]);
  std::printf(
      "  speed-up: %.2fx wall, %.2fx CPU (totals); median per chunk %.2fx wall, %.2fx CPU\n",
      wall[0] / wall[1], cpu[0] / cpu[1], median(wall_ratio), median(cpu_ratio));
  const std::uint64_t bad = before.mismatches(after);
  std::printf("  same sums and counts as before: %s (%llu mismatches)\n", bad == 0 ? "yes" : "NO",
              static_cast<unsigned long long>(bad));
}

void write_games(Store& store, std::uint64_t n) {
  Product product = store.begin("games", Provenance{"games", "1", {games::kKind}, "", "", {}, ""});
  games::GamesWriter writer(product.root(), n, games::WriterOptions{});
  constexpr std::uint64_t kChunk = 10000;
  std::uint64_t seed_index = 0;
  for (std::uint64_t first = 0; first < n; first += kChunk) {
    const std::uint64_t count = std::min(kChunk, n - first);
    std::vector<std::int8_t> squares;
    std::array<std::int8_t, 60> game{};
    while (squares.size() < count * 60) {
      othello::SplitMix64 rng(othello::game_seed(7, seed_index++));
      if (othello::random_game(rng, game) == 60)
        squares.insert(squares.end(), game.begin(), game.end());
    }
    writer.write(games::replay(squares, first, othello::MineTheirs::Real, 2));
  }
  store.commit(std::move(product));
}

void write_features(Store& store, std::uint64_t n, std::int64_t d_sae, int l0) {
  Product product =
      store.begin("features", Provenance{"sae_encode", "1", {"features"}, "", "", {}, ""});
  Group group = product.root().create_group("features");
  analysis::FeatureWriter writer(group, d_sae, analysis::PositionSpan{0, 59}, true);
  std::mt19937_64 rng(11);
  std::exponential_distribution<float> value(1.0f);
  constexpr std::uint64_t kChunk = 1000;
  std::vector<char> used(static_cast<std::size_t>(d_sae));
  for (std::uint64_t first = 0; first < n; first += kChunk) {
    analysis::SparseRows rows;
    rows.cols = d_sae;
    for (std::uint64_t r = 0; r < std::min(kChunk, n - first) * 59; ++r) {
      std::vector<std::int32_t> picked;
      while (static_cast<int>(picked.size()) < l0) {
        const auto f = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(d_sae));
        if (!used[static_cast<std::size_t>(f)])
          used[static_cast<std::size_t>(f)] = 1, picked.push_back(f);
      }
      std::sort(picked.begin(), picked.end());
      for (auto f : picked) {
        used[static_cast<std::size_t>(f)] = 0;
        rows.index.push_back(f);
        rows.value.push_back(value(rng) + 1e-3f);
      }
      rows.row_ptr.push_back(static_cast<std::int64_t>(rows.value.size()));
    }
    writer.append(rows);
  }
  writer.finish(n);
  store.commit(std::move(product));
}

double encode_seconds_per_game(std::int64_t d_sae, std::uint64_t games) {
  analysis::Sae sae;
  sae.d_in = 512;
  sae.d_sae = d_sae;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0, 1);
  sae.W_enc.resize(static_cast<std::size_t>(512 * d_sae));
  for (auto& w : sae.W_enc) w = normal(rng) / 22.6f;
  sae.W_dec = sae.W_enc;  // any [d_sae, d_in] values: only the cost matters here
  sae.b_enc.assign(static_cast<std::size_t>(d_sae), -2.0f);
  sae.b_dec.assign(512, 0.0f);
  const auto rows = static_cast<std::int64_t>(games * 59);
  std::vector<float> x(static_cast<std::size_t>(rows * 512)),
      acts(static_cast<std::size_t>(rows * d_sae));
  for (auto& v : x) v = normal(rng);
  const auto t = Clock::now();
  sae.encode(x.data(), rows, acts.data());
  analysis::SparseRows sparse;
  sparse.cols = d_sae;
  sparse.append_dense(acts.data(), rows);
  return since(t) / static_cast<double>(games);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: %s DIR [games] [d_sae] [l0] [threads] [encode_games] [chunk_games] [compare]\n",
        argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const std::uint64_t n = argc > 2 ? std::stoull(argv[2]) : 100000;
  const std::int64_t d_sae = argc > 3 ? std::stoll(argv[3]) : 4096;
  const int l0 = argc > 4 ? std::stoi(argv[4]) : 32;
  const int threads = argc > 5 ? std::stoi(argv[5]) : 2;
  const std::uint64_t encode_games = argc > 6 ? std::stoull(argv[6]) : 100;
  const std::uint64_t chunk_games = argc > 7 ? std::stoull(argv[7]) : 256;
  const bool compare = argc > 8 ? std::stoi(argv[8]) != 0 : true;
  std::filesystem::create_directories(dir);
  Store store(dir / "bench.h5");

  auto t = Clock::now();
  if (!store.has("games")) write_games(store, n);
  if (!store.has("features")) write_features(store, n, d_sae, l0);
  std::printf("setup (games + synthetic features written): %.1f s\n", since(t));

  const Product games_product = store.open("games");
  const Product features_product = store.open("features");
  const games::GamesReader games(games_product);
  const analysis::FeatureReader features(features_product.root().group("features"));
  sae_correlation::Options options;
  options.threads = threads;
  options.chunk_games = chunk_games;
  sae_correlation::Timing timing;
  t = Clock::now();
  const double cpu_start = cpu_seconds();
  const auto stats = sae_correlation::accumulate(
      [&](std::uint64_t first, std::uint64_t count) { return features.read(first, count); }, games,
      features.games(), features.span(), features.d_sae(), options, &timing);
  const double accumulate_wall = since(t);
  Product out =
      store.begin("corr", Provenance{"sae_correlation", "1", {"sae_correlation"}, "", "", {}, ""});
  t = Clock::now();
  sae_correlation::write_results(out.root(), stats, options);
  store.commit(std::move(out));
  const double write_wall = since(t);
  const double cpu_total = cpu_seconds() - cpu_start;

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double total = accumulate_wall + write_wall;
  std::printf("games %llu, positions %llu, d_sae %lld, L0 %d, threads %d\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(stats.rows()),
              static_cast<long long>(d_sae), l0, threads);
  std::printf("sae_correlation wall: %.1f s (stream %.1f s + results %.1f s)\n", total,
              accumulate_wall, write_wall);
  std::printf("  reading features from the store: %.1f s (%.0f%%)\n", timing.read_features_s,
              100 * timing.read_features_s / total);
  std::printf("  reading games + labels:          %.1f s (%.0f%%)\n", timing.read_games_s,
              100 * timing.read_games_s / total);
  std::printf("  accumulating:                    %.1f s (%.0f%%)\n", timing.accumulate_s,
              100 * timing.accumulate_s / total);
  std::printf("  computing + writing results:     %.1f s (%.0f%%)\n", write_wall,
              100 * write_wall / total);
  std::printf("CPU time of sae_correlation (all threads): %.1f s\n", cpu_total);
  std::printf("peak RSS of the process: %.0f MiB\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
  if (compare) compare_with_row_by_row(features, games, options);
  if (encode_games > 0) {
    const double per_game = encode_seconds_per_game(d_sae, encode_games);
    std::printf(
        "SAE encode (d_in 512 -> %lld, dense GEMM + ReLU + CSR) on %llu games: %.2f ms/game, "
        "%.0f s extrapolated to %llu games\n",
        static_cast<long long>(d_sae), static_cast<unsigned long long>(encode_games),
        1e3 * per_game, per_game * static_cast<double>(n), static_cast<unsigned long long>(n));
  }
  return 0;
}
