// Figures round-trip through a product, in order, with their captions and links.
#include <gtest/gtest.h>

#include <othrun/error.hpp>
#include <othrun/report.hpp>
#include <othrun/store.hpp>

#include "../core/test_helpers.hpp"

namespace r = othrun::report;
using othrun::testing::TempDir;

namespace {

othrun::Provenance provenance() {
  return othrun::Provenance{"p", "1", {"k"}, "a: 1\n", "h", {}, "e"};
}

r::Figure simple(const std::string& name, const std::string& caption) {
  return r::table(name, "T " + name, {"a"}, {{"1"}}, caption);
}

}  // namespace

TEST(FigureStore, RoundTripKeepsOrderCaptionAndLinks) {
  TempDir dir;
  othrun::Store store(dir / "s.h5");
  othrun::Product product = store.begin("step", provenance());
  auto b = simple("zeta", "first written");
  b.related = {"alpha", "other/x"};
  r::write_figure(product.root(), b);
  r::write_figure(product.root(), simple("alpha", "second"));
  r::write_figure(product.root(), simple("mid", ""));
  store.commit(std::move(product));

  const othrun::Product reopened = store.open("step");
  const auto figures = r::read_figures(reopened.root());
  ASSERT_EQ(figures.size(), 3u);
  EXPECT_EQ(figures[0].name, "zeta");
  EXPECT_EQ(figures[0].caption, "first written");
  EXPECT_EQ(figures[0].related, (std::vector<std::string>{"alpha", "other/x"}));
  EXPECT_EQ(figures[0].kind, "table");
  EXPECT_EQ(figures[0].title, "T zeta");
  EXPECT_EQ(figures[0].plotly_json, b.plotly_json);
  EXPECT_EQ(figures[1].name, "alpha");
  EXPECT_TRUE(figures[1].related.empty());
  EXPECT_EQ(figures[2].name, "mid");
  // The documented layout: figures/<name> with a plotly_json string attribute.
  EXPECT_TRUE(reopened.root().group("figures/alpha").attrs().has("plotly_json"));
}

TEST(FigureStore, ReplacingAFigureKeepsItsPlace) {
  TempDir dir;
  othrun::Store store(dir / "s.h5");
  othrun::Product product = store.begin("step", provenance());
  r::write_figure(product.root(), simple("a", "old"));
  r::write_figure(product.root(), simple("b", ""));
  r::write_figure(product.root(), simple("a", "new"));
  const auto figures = r::read_figures(product.root());
  ASSERT_EQ(figures.size(), 2u);
  EXPECT_EQ(figures[0].name, "a");
  EXPECT_EQ(figures[0].caption, "new");
  store.discard(std::move(product));
}

TEST(FigureStore, LargeFiguresFitAndBadOnesAreRejected) {
  TempDir dir;
  othrun::Store store(dir / "s.h5");
  othrun::Product product = store.begin("step", provenance());
  std::vector<double> xs(100000), ys(100000);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = i * 0.5, ys[i] = i * 0.25;
  const auto big = r::scatter_plot("big", {{"pts", xs, ys, {}, ""}}, {"Big", "x", "y"});
  ASSERT_GT(big.plotly_json.size(), 1000000u);
  r::write_figure(product.root(), big);
  EXPECT_EQ(r::read_figures(product.root()).at(0).plotly_json, big.plotly_json);

  auto broken = simple("broken", "");
  broken.plotly_json = "{not json";
  EXPECT_THROW(r::write_figure(product.root(), broken), othrun::Error);
  auto badly_named = simple("ok", "");
  badly_named.name = "a/b";
  EXPECT_THROW(r::write_figure(product.root(), badly_named), othrun::Error);
  store.discard(std::move(product));
}

TEST(FigureStore, NoFiguresReadsAsEmpty) {
  TempDir dir;
  othrun::Store store(dir / "s.h5");
  othrun::Product product = store.begin("step", provenance());
  EXPECT_TRUE(r::read_figures(product.root()).empty());
  store.discard(std::move(product));
}
