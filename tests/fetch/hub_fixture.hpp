// A fake Hub holding one model repository, org/model, with an LFS file and a small git file at
// one commit, and the helpers the fetch tests share.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "../core/test_helpers.hpp"
#include "fake_hub.hpp"
#include "fetch/fetch.hpp"
#include "runtime/content_hash.hpp"

namespace othrun::testing {

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    weights = pattern_bytes(200'000, 1);
    config = "{\"n_layers\": 8}\n";
    weights_sha = sha256_hex(weights);
    commit = commit_hash(1);
    write_bytes(dir / "content" / "weights.pth", weights);
    write_bytes(dir / "content" / "config.json", config);
    spec = {{"repos",
             {{"model/org/model",
               {{"refs", {{"main", commit}}},
                {"commits",
                 {{commit,
                   {{"weights.pth",
                     {{"file", (dir / "content" / "weights.pth").string()}, {"lfs", true}}},
                    {"sub/dir/config.json",
                     {{"file", (dir / "content" / "config.json").string()}}}}}}}}}}}};
    hub = std::make_unique<FakeHub>(dir.path(), spec);
    settings = test_settings(dir.path(), hub->endpoint());
  }

  std::filesystem::path repo_dir() const { return settings.hub_cache / "models--org--model"; }
  fetch::Fetched get(const std::string& text) const {
    return fetch::fetch(fetch::parse_reference(text), settings);
  }
  // The FetchError message of fetching `text` ("" if it succeeds).
  std::string error_of(const std::string& text) const {
    try {
      get(text);
    } catch (const fetch::FetchError& error) {
      return error.what();
    }
    return "";
  }

  TempDir dir;
  std::string weights, config, weights_sha, commit;
  nlohmann::json spec;
  std::unique_ptr<FakeHub> hub;
  fetch::Settings settings;
};

}  // namespace othrun::testing
