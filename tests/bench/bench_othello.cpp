// Engine throughput on one core: plies per second, flips included.
//
//   random_game     one game at a time: pick a uniform valid move, flip, find the next side's
//                   moves (passes included)
//   random_games    the same games, two interleaved (what the games plugin uses)
//   replay          recorded games through Position::play (what computing ground truth costs)
//   perft 8         leaves from the start; the last ply only counts moves (no flips)
//
// Prints the median over repetitions of wall-clock and of thread CPU time (the latter is steadier
// on a shared machine). Build in Release: ninja -C build bench_othello.
// Usage: bench_othello [REPETITIONS=7] [GAMES=200000]
#include <othrun/othello.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

namespace othello = othrun::othello;
using othello::kMaxGameLength;

double thread_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Sample {
  double wall;
  double cpu;
  std::uint64_t plies;
};

template <class Work>
Sample time_it(Work&& work) {
  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = thread_seconds();
  const std::uint64_t plies = work();
  const double cpu = thread_seconds() - cpu_start;
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count(), cpu,
          plies};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void report(const char* what, const std::vector<Sample>& samples) {
  std::vector<double> wall, cpu;
  for (const auto& s : samples) {
    wall.push_back(static_cast<double>(s.plies) / s.wall / 1e6);
    cpu.push_back(static_cast<double>(s.plies) / s.cpu / 1e6);
  }
  std::printf("%-16s %8.2f M plies/s wall  %8.2f M plies/s cpu\n", what, median(wall), median(cpu));
}

std::uint64_t count_plies(const std::vector<std::int8_t>& squares) {
  return static_cast<std::uint64_t>(
      std::count_if(squares.begin(), squares.end(), [](std::int8_t s) { return s >= 0; }));
}

std::uint64_t one_at_a_time(std::uint64_t games, std::uint64_t seed) {
  std::uint64_t plies = 0;
  std::array<std::int8_t, kMaxGameLength> squares{};
  for (std::uint64_t g = 0; g < games; ++g) {
    othello::SplitMix64 rng(othello::game_seed(seed, g));
    plies += static_cast<std::uint64_t>(othello::random_game(rng, squares));
  }
  return plies;
}

std::uint64_t replay(const std::vector<std::int8_t>& squares, std::uint64_t& checksum) {
  std::uint64_t plies = 0;
  for (std::size_t game = 0; game < squares.size(); game += kMaxGameLength) {
    auto position = othello::Position::start();
    for (std::size_t t = 0; t < kMaxGameLength && squares[game + t] >= 0; ++t) {
      checksum += position.play(squares[game + t]);
      ++plies;
    }
  }
  return plies;
}

}  // namespace

int main(int argc, char** argv) {
  const int repetitions = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const std::uint64_t games = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200000;

  std::vector<std::int8_t> recorded(games * kMaxGameLength);
  std::vector<Sample> single, interleaved, replays, perfts;
  std::uint64_t checksum = 0;
  for (int r = 0; r < repetitions; ++r) {
    const auto seed = static_cast<std::uint64_t>(r);
    single.push_back(time_it([&] { return one_at_a_time(games, seed); }));
    interleaved.push_back(time_it([&] {
      othello::random_games(seed, 0, games, recorded);
      return count_plies(recorded);  // counting is outside the engine but cheap
    }));
    replays.push_back(time_it([&] { return replay(recorded, checksum); }));
    perfts.push_back(time_it([] {
      const auto start = othello::Position::start();
      return othello::perft(start.black(), start.white(), 8);
    }));
  }
  std::printf("bench_othello: %llu games x %d repetitions, one thread, medians\n",
              static_cast<unsigned long long>(games), repetitions);
  report("random_game", single);
  report("random_games", interleaved);
  report("replay", replays);
  report("perft 8 leaves", perfts);
  std::printf("(checksum %llu)\n", static_cast<unsigned long long>(checksum & 0xffff));
  return 0;
}
