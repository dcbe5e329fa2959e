// Corruption test: thousands of truncated and mutated variants of the fixtures (seeded, so a
// failure reproduces). Each must load or throw othrun::DataError: no crash, no other exception, and
// under AddressSanitizer (ctest -L fuzz in an OTHRUN_ASAN build) no invalid access or leak.
//
// Raw byte mutations mostly hit tensor data or the CRCs that protect it, so most mutants are also
// made one level down: the fixture's pickle or a storage record is mutated and the archive is
// zipped again with valid CRCs, so the unpickler and the size checks see the damage.
//   OTHRUN_FUZZ_SEED=n and OTHRUN_FUZZ_ROUNDS=n override the defaults.
#include <othrun/error.hpp>
#include <othrun/pth.hpp>
#include <othrun/safetensors.hpp>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>

#include <gtest/gtest.h>

#include "checkpoint/zip_reader.hpp"
#include "checkpoint/zip_writer.hpp"
#include "checkpoint_test_util.hpp"

// In a sanitizer build (OTHRUN_ASAN), undefined behaviour fails the test instead of only printing
// a line; ignored otherwise.
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

namespace othrun {
namespace {

using Bytes = std::string;

unsigned env_or(const char* name, unsigned fallback) {
  const char* v = std::getenv(name);
  return v ? static_cast<unsigned>(std::strtoul(v, nullptr, 10)) : fallback;
}

class Mutator {
 public:
  explicit Mutator(unsigned seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return n == 0 ? 0 : rng_() % n; }

  // One of: truncate, overwrite bytes, insert bytes, delete a range, duplicate a range.
  Bytes mutate(Bytes b) {
    if (b.empty()) return b;
    switch (below(5)) {
      case 0:
        b.resize(below(b.size()));
        break;
      case 1:
        for (std::size_t n = 1 + below(8); n > 0; --n) b[below(b.size())] = interesting();
        break;
      case 2:
        b.insert(below(b.size() + 1), 1 + below(4), interesting());
        break;
      case 3:
        b.erase(below(b.size()), 1 + below(16));
        break;
      default: {
        const std::size_t at = below(b.size());
        b.insert(below(b.size() + 1), b.substr(at, 1 + below(32)));
      }
    }
    return b;
  }

 private:
  // Bytes that tend to matter: sizes at their limits, pickle opcodes, zip signatures.
  char interesting() {
    static const char kBytes[] = {'\0', '\x01', '\x7f', '\x80', '\xff', 'K', 'X', 'q', 'h',
                                  '(',  ')',    ']',    '}',    'R',    'b', 'Q', '.', 'P'};
    if (below(3) == 0) return static_cast<char>(rng_());
    return kBytes[below(sizeof kBytes)];
  }

  std::mt19937 rng_;
};

enum class Outcome { Loaded, Rejected };

// Loads `path` as its format; fails the test on anything but success or DataError.
Outcome try_load(const std::filesystem::path& path, bool safetensors, const std::string& what) {
  try {
    if (safetensors) {
      auto f = load_safetensors(path);
      for (const auto& t : f.tensors) t.tensor.to_vector<double>();  // touch every byte
    } else {
      auto f = load_pth(path);
      for (const auto& t : f.tensors) t.tensor.to_vector<double>();
      f.root.repr(1000);
    }
    return Outcome::Loaded;
  } catch (const DataError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << what << ": " << message;
    return Outcome::Rejected;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not a DataError: " << e.what();
  } catch (...) {
    ADD_FAILURE() << what << ": unknown exception";
  }
  return Outcome::Rejected;
}

// The archive at `src` zipped again with entry `index` replaced by `content`.
void rezip(const std::filesystem::path& src, std::size_t index, const Bytes& content,
           const std::filesystem::path& out) {
  checkpoint::ZipReader zip(src);
  checkpoint::ZipWriter writer(out);
  for (std::size_t i = 0; i < zip.entries().size(); ++i) {
    const auto& e = zip.entries()[i];
    if (i == index) {
      writer.add(e.name, std::as_bytes(std::span<const char>(content.data(), content.size())));
    } else {
      writer.add(e.name, zip.read(e));
    }
  }
  writer.commit();
}

Bytes entry_bytes(const std::filesystem::path& src, std::size_t index) {
  checkpoint::ZipReader zip(src);
  auto b = zip.read(zip.entries()[index]);
  return Bytes(reinterpret_cast<const char*>(b.data()), b.size());
}

struct Tally {
  int loaded = 0;
  int rejected = 0;
  void add(Outcome o) { (o == Outcome::Loaded ? loaded : rejected) += 1; }
};

const char* const kPthFixtures[] = {
    "tensor_float32.pth",
    "tensor_bool.pth",
    "state_dict_ordered.pth",
    "one_key.pth",
    "nested.pth",
    "views.pth",
    "protocol_1.pth",
    "protocol_2.pth",
    "protocol_4.pth",
    "protocol_5.pth",
    "final_sparse_autoencoder_othello-gpt_blocks.6.hook_resid_pre_16.pt"};
const char* const kSafetensorsFixtures[] = {"dtypes.safetensors",
                                            "saelens_sae/sae_weights.safetensors"};

TEST(Fuzz, MutatedTorchArchives) {
  const unsigned rounds = env_or("OTHRUN_FUZZ_ROUNDS", 200);
  Mutator m(env_or("OTHRUN_FUZZ_SEED", 20240611));
  test::TempDir dir;
  const auto out = dir / "mutant.pth";
  Tally tally;
  for (const char* name : kPthFixtures) {
    const auto src = test::fixture(name);
    const Bytes original = test::read_file(src);
    const std::size_t entries = checkpoint::ZipReader(src).entries().size();
    for (unsigned round = 0; round < rounds; ++round) {
      const std::string what = std::string(name) + " round " + std::to_string(round);
      if (round % 4 == 0) {  // the file itself
        test::write_file(out, m.mutate(original));
      } else {  // the pickle (3 in 4 of these) or another record, re-zipped with valid CRCs
        const std::size_t index = round % 4 != 3 ? 0 : m.below(entries);
        rezip(src, index, m.mutate(entry_bytes(src, index)), out);
      }
      tally.add(try_load(out, false, what));
    }
  }
  std::cout << "torch archives: " << tally.loaded << " mutants loaded, " << tally.rejected
            << " rejected with DataError\n";
  EXPECT_GT(tally.rejected, 0);
}

TEST(Fuzz, TruncatedTorchArchives) {
  test::TempDir dir;
  const auto out = dir / "cut.pth";
  for (const char* name : kPthFixtures) {
    const Bytes original = test::read_file(test::fixture(name));
    const std::size_t step = std::max<std::size_t>(1, original.size() / 64);
    for (std::size_t n = 0; n < original.size(); n += step) {
      test::write_file(out, original.substr(0, n));
      EXPECT_EQ(try_load(out, false, std::string(name) + " cut at " + std::to_string(n)),
                Outcome::Rejected);
    }
  }
}

TEST(Fuzz, MutatedSafetensors) {
  const unsigned rounds = env_or("OTHRUN_FUZZ_ROUNDS", 200) * 3;
  Mutator m(env_or("OTHRUN_FUZZ_SEED", 20240611) + 1);
  test::TempDir dir;
  const auto out = dir / "mutant.safetensors";
  Tally tally;
  for (const char* name : kSafetensorsFixtures) {
    const Bytes original = test::read_file(test::fixture(name));
    std::uint64_t header = 0;
    std::memcpy(&header, original.data(), 8);
    for (unsigned round = 0; round < rounds; ++round) {
      Bytes mutant;
      if (round % 2 == 0) {
        mutant = m.mutate(original);
      } else {  // the JSON header, with the length prefix fixed up to match
        Bytes text = m.mutate(original.substr(8, header));
        const std::uint64_t n = text.size();
        mutant = Bytes(reinterpret_cast<const char*>(&n), 8) + text + original.substr(8 + header);
      }
      test::write_file(out, mutant);
      tally.add(try_load(out, true, std::string(name) + " round " + std::to_string(round)));
    }
  }
  std::cout << "safetensors: " << tally.loaded << " mutants loaded, " << tally.rejected
            << " rejected with DataError\n";
  EXPECT_GT(tally.rejected, 0);
}

}  // namespace
}  // namespace othrun
