// Run-with-edits (othrun/torch/edits.hpp) on the inference tests' small random model:
// - every edit kind against the float64 reference tests/python/reference_edits.py, relative error
//   (max|got - ref| / max|ref|) below 1e-5, the tolerance of the plain forward against the same
//   kind of reference (tests/inference/test_model.cpp): edits add a few float32 operations on
//   O(1) values, far below that bound;
// - edits that change nothing leave every bit of the output unchanged, at every hook;
// - patching the whole residual stream from the clean run restores the clean logits exactly;
// - bad edits are refused with a message naming the edit.
#include <gtest/gtest.h>

#include <othrun/error.hpp>
#include <othrun/pth.hpp>
#include <othrun/torch/hooked_transformer.hpp>
#include <othrun/torch/hooks.hpp>

#include <cstring>
#include <filesystem>
#include <memory>

#include "edits_reference.hpp"
#include "reference.hpp"

namespace othrun::gpt {
namespace {

namespace fs = std::filesystem;
using FE = FeatureEdit;

constexpr double kTolerance = 1e-5;

struct Fixture {
  const test::EditsReference& ref = test::edits_reference();
  std::map<std::string, HostTensor> inputs, expected;
  std::unique_ptr<HookedTransformer> model;
  std::shared_ptr<const analysis::Sae> sae;

  Fixture() {
    if (!ref.skip_reason.empty()) return;
    inputs = test::load_tensors(ref.dir / "inputs.pth");
    expected = test::load_tensors(ref.dir / "expected.pth");
    model =
        std::make_unique<HookedTransformer>(HookedTransformer::from_file(ref.dir / "tl.pth", {}));
    auto s = std::make_shared<analysis::Sae>();
    s->format = "test";
    s->d_in = 32;
    s->d_sae = 48;
    s->W_enc = inputs.at("sae.W_enc").to_vector<float>();
    s->b_enc = inputs.at("sae.b_enc").to_vector<float>();
    s->W_dec = inputs.at("sae.W_dec").to_vector<float>();
    s->b_dec = inputs.at("sae.b_dec").to_vector<float>();
    s->check("reference_edits.py");
    sae = s;
  }
  const HostTensor& tokens() const { return inputs.at("tokens"); }

  Cache run(const HostTensor& tokens, std::vector<Edit> edits, std::set<std::string> hooks = {},
            LogitsOutput logits = LogitsOutput::LogProbs) const {
    RunRequest request;
    request.hooks = std::move(hooks);
    request.logits = logits;
    request.edits = std::move(edits);
    return model->run(tokens, request);
  }
};

#define SKIP_WITHOUT_TORCH(f) \
  if (!(f).ref.skip_reason.empty()) GTEST_SKIP() << (f).ref.skip_reason

bool same_bits(const HostTensor& a, const HostTensor& b) {
  return a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.contiguous().data(), b.contiguous().data(), a.nbytes()) == 0;
}

// The cases of reference_edits.py, written with the C++ API.
std::vector<std::pair<std::string, std::pair<std::vector<Edit>, std::string>>> cases(
    const Fixture& f, const Cache& source_b) {
  const auto& in = f.inputs;
  const std::vector<FE> features = {{3, FE::Op::Set, 2.0},
                                    {7, FE::Op::Set, 0.0},
                                    {11, FE::Op::Scale, 3.0},
                                    {3, FE::Op::Scale, 0.5}};
  std::vector<std::pair<std::string, std::pair<std::vector<Edit>, std::string>>> out;
  auto one = [&](const std::string& name, Edit e, const std::string& hook) {
    out.push_back({name, {{std::move(e)}, hook}});
  };
  one("add_resid_pre",
      Edit::add("blocks.1.hook_resid_pre", in.at("vec_resid"), Positions::at({3, 10})),
      "blocks.1.hook_resid_pre");
  Edit later = Edit::add("blocks.0.hook_resid_mid", in.at("vec_resid"));
  later.and_later_layers = true;
  one("add_later", later, "blocks.1.hook_resid_mid");
  one("add_rows_post",
      Edit::add("blocks.0.mlp.hook_post", in.at("vec_rows_post"), Positions::at({0, 20, 58})),
      "blocks.0.mlp.hook_post");
  Edit z = Edit::add("blocks.1.attn.hook_z", in.at("vec_z"), Positions::at({7}));
  z.heads = {2};
  one("add_z_head", z, "blocks.1.attn.hook_z");
  one("set_along_rows",
      Edit::set_along("blocks.1.hook_resid_post", in.at("dir_rows"),
                      in.at("values_rows").to_vector<double>(),
                      Positions::one_per_row({5, 30, 58})),
      "blocks.1.hook_resid_post");
  Edit reflect = Edit::scale_along("blocks.0.hook_resid_pre", in.at("dir_resid"), {-1.0});
  reflect.and_later_layers = true;
  one("reflect_later", reflect, "blocks.1.hook_resid_pre");
  one("project_out_attn",
      Edit::scale_along("blocks.0.hook_attn_out", in.at("dir_resid"), {0.0}, Positions::at({12})),
      "blocks.0.hook_attn_out");
  Edit rz = Edit::replace("blocks.1.attn.hook_z", source_b.at("blocks.1.attn.hook_z"),
                          Positions::at({5, 6}));
  rz.heads = {1, 3};
  one("replace_z_head", rz, "blocks.1.attn.hook_z");
  Edit rp = Edit::replace("blocks.0.attn.hook_pattern", source_b.at("blocks.0.attn.hook_pattern"),
                          Positions::at({9, 40}));
  rp.heads = {0};
  one("replace_pattern", rp, "blocks.0.attn.hook_pattern");
  one("replace_resid_rows",
      Edit::replace("blocks.1.hook_resid_mid", source_b.at("blocks.1.hook_resid_mid"),
                    Positions::one_per_row({0, 17, 44})),
      "blocks.1.hook_resid_mid");
  one("sae_keep_error",
      Edit::sae_features("blocks.1.hook_resid_pre", f.sae, features, Positions::at({4, 33})),
      "blocks.1.hook_resid_pre");
  Edit recon = Edit::sae_features("blocks.1.hook_resid_pre", f.sae, features);
  recon.keep_error = false;
  one("sae_recon_only", recon, "blocks.1.hook_resid_pre");
  Edit sae_later =
      Edit::sae_features("blocks.0.hook_resid_post", f.sae,
                         {{5, FE::Op::Set, 0.0}, {9, FE::Op::Scale, 4.0}}, Positions::at({20}));
  sae_later.and_later_layers = true;
  one("sae_later", sae_later, "blocks.1.hook_resid_post");
  out.push_back({"chain",
                 {{Edit::add("blocks.0.hook_resid_post", in.at("vec_resid")),
                   Edit::scale_along("blocks.0.hook_resid_post", in.at("dir_resid"), {-2.0})},
                  "blocks.0.hook_resid_post"}});
  return out;
}

TEST(Edits, EveryKindMatchesTheFloat64Reference) {
  Fixture f;
  SKIP_WITHOUT_TORCH(f);
  std::set<std::string> all;
  for (const std::string& name : all_hook_names(2)) all.insert(name);
  const Cache source_b = f.run(f.inputs.at("tokens_b"), {}, all, LogitsOutput::None);
  std::string why;
  const Cache clean = f.run(f.tokens(), {});
  EXPECT_LT(test::relative_error(clean.at("log_probs"), f.expected.at("clean.log_probs"), &why),
            kTolerance)
      << why;
  const auto all_cases = cases(f, source_b);
  ASSERT_EQ(all_cases.size(), 14u);
  for (const auto& [name, edits_hook] : all_cases) {
    const auto& [edits, hook] = edits_hook;
    const Cache got = f.run(f.tokens(), edits, {hook});
    EXPECT_LT(test::relative_error(got.at("log_probs"), f.expected.at(name + ".log_probs"), &why),
              kTolerance)
        << name << " " << why;
    EXPECT_LT(test::relative_error(got.at(hook), f.expected.at(name + "." + hook), &why),
              kTolerance)
        << name << " " << hook << " " << why;
  }
}

// The last axis of `hook`'s activation.
std::int64_t last_axis(const Cache& cache, const std::string& hook) {
  return cache.at(hook).shape().back();
}

TEST(Edits, EditsThatChangeNothingChangeNoBit) {
  Fixture f;
  SKIP_WITHOUT_TORCH(f);
  for (const std::string& hook : all_hook_names(2)) {
    // The clean run records the hook too: LayerNorm hooks take the unfused path when touched.
    const Cache clean = f.run(f.tokens(), {}, {hook}, LogitsOutput::Logits);
    const std::int64_t d = last_axis(clean, hook);
    std::vector<float> ones(static_cast<std::size_t>(d), 0.25f);
    const HostTensor direction = HostTensor::from_values<float>({d}, ones);
    std::vector<std::vector<Edit>> no_ops = {
        {Edit::add(hook, HostTensor(DType::Float32, {d}))},
        {Edit::replace(hook, clean.at(hook))},
        {Edit::replace(hook, clean.at(hook), Positions::one_per_row({1, 2, 3}))},
    };
    // (Directional edits of attn_scores are refused: the masked scores are -inf.)
    if (hook.find("attn_scores") == std::string::npos)
      no_ops.push_back({Edit::scale_along(hook, direction, {1.0}, Positions::at({0, 5, 58}))});
    for (std::size_t i = 0; i < no_ops.size(); ++i) {
      const Cache edited = f.run(f.tokens(), no_ops[i], {hook}, LogitsOutput::Logits);
      EXPECT_TRUE(same_bits(edited.at("logits"), clean.at("logits"))) << hook << " no-op " << i;
      EXPECT_TRUE(same_bits(edited.at(hook), clean.at(hook))) << hook << " no-op " << i;
    }
  }
}

TEST(Edits, SaeSpliceWithoutAnEditEqualsTheCleanRun) {
  Fixture f;
  SKIP_WITHOUT_TORCH(f);
  std::vector<FE> identity;
  for (std::int64_t i = 0; i < f.sae->d_sae; ++i) identity.push_back({i, FE::Op::Scale, 1.0});
  const std::string hook = "blocks.1.hook_resid_pre";
  const Cache clean = f.run(f.tokens(), {}, {}, LogitsOutput::Logits);
  for (bool later : {false, true}) {
    Edit e = Edit::sae_features("blocks.0.hook_resid_pre", f.sae, identity);
    e.and_later_layers = later;
    EXPECT_TRUE(same_bits(f.run(f.tokens(), {e}, {}, LogitsOutput::Logits).at("logits"),
                          clean.at("logits")))
        << "and_later_layers " << later;
  }
  // The same splice with a real edit does change the output (the test above could not pass by
  // ignoring SAE edits).
  const Cache ablated =
      f.run(f.tokens(), {Edit::sae_features(hook, f.sae, {{3, FE::Op::Scale, 5.0}})}, {},
            LogitsOutput::Logits);
  EXPECT_FALSE(same_bits(ablated.at("logits"), clean.at("logits")));
}

TEST(Edits, PatchingTheWholeResidualStreamRestoresTheCleanLogits) {
  Fixture f;
  SKIP_WITHOUT_TORCH(f);
  const HostTensor& corrupted = f.inputs.at("tokens_b");
  for (const char* hook : {"blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre",
                           "blocks.1.hook_resid_mid", "blocks.1.hook_resid_post"}) {
    const Cache clean = f.run(f.tokens(), {}, {hook}, LogitsOutput::Logits);
    const Cache other = f.run(corrupted, {}, {}, LogitsOutput::Logits);
    ASSERT_FALSE(same_bits(other.at("logits"), clean.at("logits")));
    const Cache patched =
        f.run(corrupted, {Edit::replace(hook, clean.at(hook))}, {}, LogitsOutput::Logits);
    EXPECT_TRUE(same_bits(patched.at("logits"), clean.at("logits"))) << hook;
    // Every position named one by one: the same.
    std::vector<std::int64_t> every(59);
    for (std::int64_t i = 0; i < 59; ++i) every[static_cast<std::size_t>(i)] = i;
    const Cache listed =
        f.run(corrupted, {Edit::replace(hook, clean.at(hook), Positions::at(every))}, {},
              LogitsOutput::Logits);
    EXPECT_TRUE(same_bits(listed.at("logits"), clean.at("logits"))) << hook;
  }
}

// Runs `e` and returns the error message ("" when no error).
std::string error_of(const Fixture& f, const Edit& e) {
  try {
    f.run(f.tokens(), {e});
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(Edits, BadEditsAreRefusedNamingTheEdit) {
  Fixture f;
  SKIP_WITHOUT_TORCH(f);
  const HostTensor v32 = f.inputs.at("vec_resid");
  const HostTensor v7(DType::Float32, {7});
  auto expect = [&](const Edit& e, const std::string& part) {
    const std::string message = error_of(f, e);
    EXPECT_NE(message.find("edit 0"), std::string::npos) << message;
    EXPECT_NE(message.find(part), std::string::npos) << message;
  };
  expect(Edit::add("blocks.2.hook_resid_pre", v32), "unknown hook");
  expect(Edit::add("resid_pre.1", v32), "unknown hook");  // shorthand is resolved by the caller
  expect(Edit::add("blocks.1.hook_resid_pre", v7), "the vector must be [32] or [3, 32], got [7]");
  expect(Edit::add("blocks.1.hook_resid_pre", v32, Positions::at({59})),
         "position 59 outside 0..58");
  expect(Edit::add("blocks.1.hook_resid_pre", v32, Positions::at({4, 4})), "listed twice");
  expect(Edit::add("blocks.1.hook_resid_pre", v32, Positions::one_per_row({1, 2})),
         "2 per-row positions for a batch of 3");
  Edit heads = Edit::add("blocks.1.hook_resid_pre", v32);
  heads.heads = {0};
  expect(heads, "no head axis");
  Edit later = Edit::replace("blocks.0.hook_resid_pre", HostTensor(DType::Float32, {3, 59, 32}));
  later.and_later_layers = true;
  expect(later, "one edit per layer");
  expect(Edit::replace("blocks.0.hook_resid_pre", HostTensor(DType::Float32, {3, 58, 32})),
         "the source is [3, 58, 32], the activation [3, 59, 32]");
  expect(Edit::set_along("blocks.0.hook_resid_pre", HostTensor(DType::Float32, {32}), {1.0}),
         "the direction is zero");
  expect(Edit::set_along("blocks.0.hook_resid_pre", v32, {1.0, 2.0}), "2 values for a batch of 3");
  expect(Edit::sae_features("blocks.0.mlp.hook_post", f.sae, {}), "the SAE's d_in is 32");
  expect(Edit::sae_features("blocks.0.hook_resid_pre", f.sae, {{48, FE::Op::Set, 0}}),
         "feature 48 outside 0..47");
  expect(Edit::sae_features("blocks.0.hook_resid_pre", nullptr, {}), "no SAE");
  expect(
      Edit::scale_along("blocks.0.attn.hook_attn_scores", HostTensor(DType::Float32, {59}), {1.0}),
      "the masked attention scores are -inf");
}

}  // namespace
}  // namespace othrun::gpt
