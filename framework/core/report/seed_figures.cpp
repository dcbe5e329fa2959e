// Square names as the seed notebook writes them. The notebook's figures themselves live with the
// plugins that draw them (plugins/*/notebook_figure*.cpp).
#include <othrun/error.hpp>
#include <othrun/report.hpp>

namespace othrun::report {

std::string square_label(int square) {
  if (square < 0 || square > 63) throw Error("square " + std::to_string(square) + " is not 0..63");
  return std::string(1, "ABCDEFGH"[square / 8]) + std::to_string(square % 8);
}

}  // namespace othrun::report
