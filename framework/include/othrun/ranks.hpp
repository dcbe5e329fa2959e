// The processes a step runs on: one without mpirun, N under `mpirun -n N othrun ...`
// (docs/scale.md).
//
// A data-parallel step (Schema::data_parallel()) runs on every rank. Each rank works on its share
// of the games (share()), writes the rows it computed into datasets marked with split_rows(), and
// sends what it accumulated to rank 0 with gather(); rank 0 writes everything else. The host joins
// the split datasets of all ranks into one product: readers see one dataset per name.
//
// The same numbers for any N: shares are runs of fixed blocks of games, so a rank never computes a
// chunk that a one-process run computes differently; integer counts and orderings merge exactly,
// and floating sums merge through BlockTree, whose order of additions does not depend on N.
#pragma once

#include <othrun/store.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace othrun {

// Games [begin, end) of a product's games.
struct RowShare {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  std::uint64_t count() const { return end - begin; }
};

class Ranks {
 public:
  virtual ~Ranks() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }

  // Collectives: every rank calls them, in the same order.
  // Rank 0 receives every rank's bytes, in rank order; the other ranks receive nothing.
  virtual std::vector<std::vector<char>> gather(std::span<const char> mine) = 0;
  // Every rank receives rank 0's `bytes` (what the other ranks pass is ignored).
  virtual std::vector<char> broadcast(std::span<const char> bytes) = 0;

  // The share of rank `rank` of `total` games cut into blocks of `block` games (the last may be
  // shorter): rank r takes blocks [r * B / N, (r + 1) * B / N). Shares are empty when B < N.
  RowShare share_of(int rank, std::uint64_t total, std::uint64_t block) const;
  RowShare share(std::uint64_t total, std::uint64_t block) const {
    return share_of(rank(), total, block);
  }
};

// One process: what a run without mpirun (and a test) uses.
class SingleRank : public Ranks {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::vector<std::vector<char>> gather(std::span<const char> mine) override {
    return {std::vector<char>(mine.begin(), mine.end())};
  }
  std::vector<char> broadcast(std::span<const char> bytes) override {
    return {bytes.begin(), bytes.end()};
  }
};

// Marks `dataset` as holding only this rank's rows: the joined product concatenates the rows of
// every rank's dataset of that name, in rank order. With one rank it changes nothing.
void split_rows(const Ranks& ranks, Dataset& dataset);
inline constexpr const char* kSplitRowsAttr = "othrun.split_rows";

// Bytes in, bytes out: what gather() and broadcast() carry. Trivially copyable values and vectors
// of them, native byte order (every rank runs the same build).
class ByteWriter {
 public:
  template <class T>
  ByteWriter& put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(&value, sizeof(T));
    return *this;
  }
  template <class T>
  ByteWriter& put(const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<std::uint64_t>(values.size());
    append(values.data(), values.size() * sizeof(T));
    return *this;
  }
  ByteWriter& put(const std::string& text) {
    return put(std::vector<char>(text.begin(), text.end()));
  }
  std::vector<char>& bytes() { return bytes_; }

 private:
  void append(const void* data, std::size_t size) {
    if (size == 0) return;
    const std::size_t at = bytes_.size();
    bytes_.resize(at + size);
    std::memcpy(bytes_.data() + at, data, size);
  }
  std::vector<char> bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const char> bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  template <class T>
  std::vector<T> get_vector() {
    const auto n = get<std::uint64_t>();
    std::vector<T> values(n);
    if (n) std::memcpy(values.data(), take(n * sizeof(T)), n * sizeof(T));
    return values;
  }
  std::string get_string() {
    const auto chars = get_vector<char>();
    return {chars.begin(), chars.end()};
  }
  bool done() const { return offset_ == bytes_.size(); }

 private:
  const char* take(std::size_t n);  // throws Error past the end
  std::span<const char> bytes_;
  std::size_t offset_ = 0;
};

// Rank 0 receives the concatenation, in rank order, of every rank's `mine`: with shares in rank
// order that is the one-process order. Other ranks receive an empty vector.
template <class T>
std::vector<T> gather_concat(Ranks& ranks, const std::vector<T>& mine) {
  ByteWriter out;
  out.put(mine);
  std::vector<T> all;
  for (const auto& bytes : ranks.gather(out.bytes())) {
    ByteReader in(bytes);
    const auto part = in.get_vector<T>();
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

// Every rank's `value`, in rank order, on every rank.
template <class T>
std::vector<T> all_gather_values(Ranks& ranks, const T& value) {
  ByteWriter mine;
  mine.put(value);
  ByteWriter all;
  for (const auto& bytes : ranks.gather(mine.bytes())) all.put(ByteReader(bytes).get<T>());
  const std::vector<char> everyone = ranks.broadcast(all.bytes());
  ByteReader in(everyone);
  std::vector<T> values;
  for (int k = 0; k < ranks.size(); ++k) values.push_back(in.get<T>());
  return values;
}

// The element-wise sum of every rank's `values` on rank 0 (the other ranks receive an empty
// vector). Only for sums that are exact in any order (integers, or whole numbers held in doubles):
// floating sums go through BlockTree.
template <class T>
std::vector<T> sum_on_root(Ranks& ranks, const std::vector<T>& values) {
  ByteWriter mine;
  mine.put(values);
  std::vector<T> total;
  for (const auto& bytes : ranks.gather(mine.bytes())) {
    ByteReader in(bytes);
    const std::vector<T> part = in.get_vector<T>();
    if (total.empty()) total.assign(part.size(), T{});
    if (part.size() != total.size()) throw Error("sum_on_root: the ranks sent different sizes");
    for (std::size_t i = 0; i < part.size(); ++i) total[i] += part[i];
  }
  return total;
}

// A sum of per-block accumulators whose additions happen in one fixed order for any N: the blocks
// (numbered 0..blocks-1 over all ranks) are the leaves of a binary tree whose node (level l, index
// i) covers blocks [i * 2^l, (i + 1) * 2^l); a node is its left child merged with its right child.
// Each rank merges the nodes that lie wholly in its share; rank 0 merges the rest. Floating results
// are therefore bit-identical for any number of ranks (and any thread count within a rank).
//
// Acc needs: `void merge(const Acc& right)`, `void save(ByteWriter&) const` and
// `static Acc load(ByteReader&)`.
template <class Acc>
class BlockTree {
 public:
  // Blocks must be added in increasing order, each once, all of this rank's share.
  void add(std::uint64_t block, Acc leaf) {
    nodes_.push_back({0, block, std::move(leaf)});
    while (nodes_.size() >= 2) {
      Node& right = nodes_.back();
      Node& left = nodes_[nodes_.size() - 2];
      if (left.level != right.level || left.index % 2 != 0 || left.index + 1 != right.index) break;
      left.acc.merge(right.acc);
      left.index /= 2;
      ++left.level;
      nodes_.pop_back();
    }
  }

  // Collective. Rank 0 gets the merged sum of all `blocks` blocks (nullopt when blocks == 0);
  // the other ranks get nullopt.
  std::optional<Acc> reduce(Ranks& ranks, std::uint64_t blocks) {
    ByteWriter out;
    out.put<std::uint64_t>(nodes_.size());
    for (const Node& node : nodes_) {
      out.put(node.level).put(node.index);
      node.acc.save(out);
    }
    nodes_.clear();
    const auto parts = ranks.gather(out.bytes());
    if (!ranks.is_root() || blocks == 0) return std::nullopt;
    std::map<std::pair<int, std::uint64_t>, Acc> known;
    for (const auto& bytes : parts) {
      ByteReader in(bytes);
      const auto n = in.get<std::uint64_t>();
      for (std::uint64_t k = 0; k < n; ++k) {
        const int level = in.get<int>();
        const auto index = in.get<std::uint64_t>();
        known.emplace(std::make_pair(level, index), Acc::load(in));
      }
    }
    std::uint64_t covered = 0;
    for (const auto& [at, acc] : known) {
      const std::uint64_t first = at.second << at.first;
      covered += std::min(blocks, (at.second + 1) << at.first) - std::min(blocks, first);
    }
    if (covered != blocks) throw_missing_blocks(covered, blocks);
    int top = 0;
    while ((std::uint64_t{1} << top) < blocks) ++top;
    return evaluate(known, top, 0, blocks);
  }

 private:
  struct Node {
    int level;
    std::uint64_t index;
    Acc acc;
  };

  [[noreturn]] static void throw_missing_blocks(std::uint64_t covered, std::uint64_t blocks) {
    throw Error("BlockTree: the ranks added " + std::to_string(covered) + " of " +
                std::to_string(blocks) + " blocks");
  }

  static std::optional<Acc> evaluate(std::map<std::pair<int, std::uint64_t>, Acc>& known, int level,
                                     std::uint64_t index, std::uint64_t blocks) {
    if ((index << level) >= blocks) return std::nullopt;  // wholly past the last block
    if (auto it = known.find({level, index}); it != known.end()) return std::move(it->second);
    if (level == 0) return std::nullopt;  // a missing leaf: reduce() checks below
    std::optional<Acc> left = evaluate(known, level - 1, 2 * index, blocks);
    std::optional<Acc> right = evaluate(known, level - 1, 2 * index + 1, blocks);
    if (!left) return right;
    if (right) left->merge(*right);
    return left;
  }

  std::vector<Node> nodes_;
};

}  // namespace othrun
