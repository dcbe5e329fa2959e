// Ranks::share and BlockTree (othrun/ranks.hpp) with N ranks simulated in one process: the shares
// cover the games once, in order and in whole blocks, and a BlockTree sum is bit-identical for any
// N although floating addition is not associative.
#include <othrun/ranks.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace othrun {
namespace {

// Rank `rank` of `size`. Collectives through a shared mailbox: the test runs every other rank's
// call first, then rank 0's, which receives what they sent.
class SimulatedRanks : public Ranks {
 public:
  SimulatedRanks(int rank, int size, std::vector<std::vector<char>>& mailbox)
      : rank_(rank), size_(size), mailbox_(mailbox) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::vector<std::vector<char>> gather(std::span<const char> mine) override {
    mailbox_[static_cast<std::size_t>(rank_)].assign(mine.begin(), mine.end());
    return rank_ == 0 ? mailbox_ : std::vector<std::vector<char>>();
  }
  std::vector<char> broadcast(std::span<const char> bytes) override {
    return {bytes.begin(), bytes.end()};
  }

 private:
  int rank_, size_;
  std::vector<std::vector<char>>& mailbox_;
};

struct Sum {
  double value = 0;
  void merge(const Sum& right) { value += right.value; }
  void save(ByteWriter& out) const { out.put(value); }
  static Sum load(ByteReader& in) { return {in.get<double>()}; }
};

// Values whose float sum depends on the order of the additions.
std::vector<double> awkward_values(std::size_t n) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> mantissa(1, 2);
  std::uniform_int_distribution<int> exponent(-30, 30);
  std::vector<double> v(n);
  for (auto& x : v) x = std::ldexp(mantissa(rng), exponent(rng)) * (rng() % 2 ? 1 : -1);
  return v;
}

// The sum of `leaves` over `size` simulated ranks, each adding the leaves of its share.
double tree_sum(const std::vector<double>& leaves, int size) {
  std::vector<std::vector<char>> mailbox(static_cast<std::size_t>(size));
  std::optional<Sum> result;
  for (int rank = size - 1; rank >= 0; --rank) {  // rank 0 last: it receives the others' nodes
    SimulatedRanks ranks(rank, size, mailbox);
    const RowShare share = ranks.share(leaves.size(), 1);
    BlockTree<Sum> tree;
    for (std::uint64_t b = share.begin; b < share.end; ++b) tree.add(b, {leaves[b]});
    auto reduced = tree.reduce(ranks, leaves.size());
    if (rank == 0)
      result = reduced;
    else
      EXPECT_FALSE(reduced.has_value());
  }
  return result ? result->value : std::nan("");
}

// The same tree, written out: node (l, i) = node(l-1, 2i) + node(l-1, 2i+1), missing leaves absent.
double pairwise(const std::vector<double>& v, std::size_t first, std::size_t width) {
  if (width == 1) return v[first];
  const std::size_t half = width / 2;
  if (first + half >= v.size()) return pairwise(v, first, half);
  return pairwise(v, first, half) + pairwise(v, first + half, half);
}

TEST(Share, CoversEveryGameOnceInWholeBlocks) {
  std::vector<std::vector<char>> mailbox(7);
  for (std::uint64_t total : {0, 1, 63, 64, 65, 700, 1000}) {
    for (int size = 1; size <= 7; ++size) {
      std::uint64_t next = 0;
      for (int rank = 0; rank < size; ++rank) {
        const RowShare s = SimulatedRanks(rank, size, mailbox).share(total, 64);
        EXPECT_EQ(s.begin, next) << total << " games, rank " << rank << " of " << size;
        EXPECT_LE(s.begin, s.end);
        if (s.end != total) {
          EXPECT_EQ(s.end % 64, 0u) << "a share ends inside a block";
        }
        next = s.end;
      }
      EXPECT_EQ(next, total);
    }
  }
  // 11 blocks of 64 over 3 ranks: 3, 4 and 4 blocks.
  const RowShare middle = SimulatedRanks(1, 3, mailbox).share(700, 64);
  EXPECT_EQ(middle.begin, 192u);
  EXPECT_EQ(middle.end, 448u);
}

TEST(BlockTree, SameBitsForAnyNumberOfRanks) {
  for (std::size_t n : {1, 2, 3, 5, 11, 64, 100, 1000}) {
    const std::vector<double> leaves = awkward_values(n);
    std::size_t width = 1;
    while (width < n) width *= 2;
    const double expected = pairwise(leaves, 0, width);
    for (int size = 1; size <= 7; ++size) {
      const double got = tree_sum(leaves, size);
      EXPECT_EQ(std::memcmp(&got, &expected, sizeof got), 0)
          << n << " leaves on " << size << " ranks: " << got << " vs " << expected;
    }
  }
}

TEST(BlockTree, TheOrderMatters) {
  // Guards the test above: with these values a left-to-right sum differs from the tree's, so equal
  // results there come from the fixed order, not from exact arithmetic.
  const std::vector<double> leaves = awkward_values(1000);
  double left_to_right = 0;
  for (double v : leaves) left_to_right += v;
  EXPECT_NE(left_to_right, tree_sum(leaves, 1));
}

TEST(BlockTree, RefusesMissingBlocks) {
  std::vector<std::vector<char>> mailbox(1);
  SimulatedRanks ranks(0, 1, mailbox);
  BlockTree<Sum> tree;
  tree.add(0, {1.0});
  tree.add(2, {1.0});  // block 1 never added
  EXPECT_THROW(tree.reduce(ranks, 3), Error);
}

TEST(ByteReader, RefusesATruncatedMessage) {
  ByteWriter out;
  out.put(std::vector<double>{1, 2, 3});
  std::vector<char> bytes = out.bytes();
  bytes.pop_back();
  ByteReader in(bytes);
  EXPECT_THROW(in.get_vector<double>(), Error);
}

}  // namespace
}  // namespace othrun
