// Figures in a product: group `figures/<name>` whose attributes hold the JSON and its caption.
#include <hdf5.h>

#include <algorithm>

#include <othrun/error.hpp>
#include <othrun/store.hpp>

#include "report/figure_json.hpp"

namespace othrun::report {
namespace {

constexpr const char* kFolder = "figures";

// The next free position, so figures read back in the order they were written.
std::int64_t next_order(const Group& folder) {
  std::int64_t next = 0;
  for (const auto& member : folder.members()) {
    const Attributes attrs = folder.group(member).attrs();
    if (attrs.has("order")) next = std::max(next, attrs.get_int("order") + 1);
  }
  return next;
}

}  // namespace

void write_figure(Group& root, const Figure& figure) {
  if (!is_valid_label(figure.name)) {
    throw Error("'" + figure.name +
                "' is not a valid figure name (letters, digits, '_', '-', '.')");
  }
  if (!detail::json::accept(figure.plotly_json)) {
    throw Error("figure '" + figure.name + "': plotly_json is not valid JSON");
  }
  Group folder = root.contains(kFolder) ? root.group(kFolder) : root.create_group(kFolder);
  std::int64_t order = next_order(folder);
  if (folder.contains(figure.name)) {
    // Replacing keeps the original position.
    order = folder.group(figure.name).attrs().get_int("order");
    if (H5Ldelete(folder.id(), figure.name.c_str(), H5P_DEFAULT) < 0) {
      throw Error("figure '" + figure.name + "': cannot replace the stored figure");
    }
  }
  Group group = folder.create_group(figure.name);
  Attributes attrs = group.attrs();
  attrs.set("plotly_json", figure.plotly_json);
  attrs.set("kind", figure.kind);
  attrs.set("title", figure.title);
  attrs.set("caption", figure.caption);
  // Absent when empty: the store cannot read back an empty string list.
  if (!figure.related.empty()) attrs.set("related", figure.related);
  attrs.set("order", order);
}

std::vector<Figure> read_figures(const Group& root) {
  if (!root.contains(kFolder)) return {};
  const Group folder = root.group(kFolder);
  std::vector<std::pair<std::int64_t, Figure>> found;
  for (const auto& name : folder.members()) {
    const Attributes attrs = folder.group(name).attrs();
    Figure figure;
    figure.name = name;
    figure.plotly_json = attrs.get_string("plotly_json");
    figure.kind = attrs.has("kind") ? attrs.get_string("kind") : "";
    figure.title = attrs.has("title") ? attrs.get_string("title") : "";
    figure.caption = attrs.has("caption") ? attrs.get_string("caption") : "";
    if (attrs.has("related")) figure.related = attrs.get_strings("related");
    found.emplace_back(attrs.has("order") ? attrs.get_int("order") : 0, std::move(figure));
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Figure> figures;
  for (auto& entry : found) figures.push_back(std::move(entry.second));
  return figures;
}

}  // namespace othrun::report
