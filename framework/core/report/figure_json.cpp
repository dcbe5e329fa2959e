#include "report/figure_json.hpp"

#include <array>

#include <othrun/error.hpp>
#include <othrun/store.hpp>

namespace othrun::report::detail {

Figure make_figure(std::string name, std::string kind, std::string title, std::string caption,
                   json data, json layout) {
  if (!is_valid_label(name)) {
    throw Error("'" + name + "' is not a valid figure name (letters, digits, '_', '-', '.')");
  }
  Figure figure;
  figure.name = std::move(name);
  figure.kind = std::move(kind);
  figure.title = std::move(title);
  figure.caption = std::move(caption);
  figure.plotly_json = json{{"data", std::move(data)}, {"layout", std::move(layout)}}.dump();
  return figure;
}

json base_layout(const std::string& title) {
  // A fixed height: the report's plot containers have none for plotly to fill.
  return json{{"title", {{"text", title}}},
              {"height", 450},
              {"margin", {{"l", 60}, {"r", 30}, {"t", 60}, {"b", 50}}}};
}

json axis(const std::string& title) {
  if (title.empty()) return json::object();
  return json{{"title", {{"text", title}}}};
}

json colorscale(ColorScale scale) {
  // ColorBrewer colours, as in plotly express's px.colors.sequential.Blues / diverging.RdBu.
  static const std::array<const char*, 9> blues = {
      "rgb(247,251,255)", "rgb(222,235,247)", "rgb(198,219,239)",
      "rgb(158,202,225)", "rgb(107,174,214)", "rgb(66,146,198)",
      "rgb(33,113,181)",  "rgb(8,81,156)",    "rgb(8,48,107)"};
  static const std::array<const char*, 11> rdbu = {
      "rgb(103,0,31)",    "rgb(178,24,43)",   "rgb(214,96,77)",   "rgb(244,165,130)",
      "rgb(253,219,199)", "rgb(247,247,247)", "rgb(209,229,240)", "rgb(146,197,222)",
      "rgb(67,147,195)",  "rgb(33,102,172)",  "rgb(5,48,97)"};
  json out = json::array();
  auto add = [&out](const auto& colours) {
    const double last = static_cast<double>(colours.size() - 1);
    for (size_t i = 0; i < colours.size(); ++i) {
      out.push_back(json::array({static_cast<double>(i) / last, colours[i]}));
    }
  };
  if (scale == ColorScale::Blues) {
    add(blues);
  } else {
    add(rdbu);
  }
  return out;
}

std::string palette(size_t i) {
  static const std::array<const char*, 10> colours = {"#636efa", "#EF553B", "#00cc96", "#ab63fa",
                                                      "#FFA15A", "#19d3f3", "#FF6692", "#B6E880",
                                                      "#FF97FF", "#FECB52"};
  return colours[i % colours.size()];
}

}  // namespace othrun::report::detail
