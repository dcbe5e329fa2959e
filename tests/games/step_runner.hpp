// Runs a plugin step, or any function writing a product, into a real Store the way the host does:
// the product is committed when the body returns and discarded when it throws.
#pragma once

#include <othrun/plugin.hpp>
#include <othrun/store.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace othrun::test {

class TestContext : public RunContext {
 public:
  TestContext(Product& output, std::uint64_t seed, int threads)
      : output_(output), seed_(seed), threads_(threads) {}
  Product& output() override { return output_; }
  const Product& input(const std::string& key) override {
    throw std::logic_error("games steps have no input; asked for '" + key + "'");
  }
  std::uint64_t seed() const override { return seed_; }
  int threads() const override { return threads_; }
  Ranks& ranks() override { return ranks_; }

 private:
  Product& output_;
  SingleRank ranks_;
  std::uint64_t seed_;
  int threads_;
};

// Runs body(RunContext&) into product `label` of `store`.
template <class Body>
void run_into(Store& store, const std::string& label, std::uint64_t seed, int threads,
              Body&& body) {
  Provenance provenance;
  provenance.plugin = "games";
  provenance.plugin_version = "test";
  provenance.kinds = {"games"};
  provenance.experiment = "test";
  Product product = store.begin(label, provenance);
  try {
    TestContext context(product, seed, threads);
    body(context);
  } catch (...) {
    store.discard(std::move(product));
    throw;
  }
  store.commit(std::move(product));
}

}  // namespace othrun::test
