#include "notebook_figure.hpp"

#include <fmt/format.h>

namespace othrun::report {

Figure spectrum_histogram(std::string name, Histogram histogram, std::string caption) {
  Figure figure = report::histogram(std::move(name), histogram, std::move(caption));
  figure.kind = "spectrum";
  return figure;
}

}  // namespace othrun::report
