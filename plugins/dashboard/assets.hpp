// The dashboard's static pages, compiled in from plugins/dashboard/assets/ (CMake generates the
// definitions), so an installed plugin needs no data files.
#pragma once

namespace othrun::dashboard::assets {
extern const char* const kIndexHtml;
extern const char* const kUnitHtml;
extern const char* const kDashboardJs;
extern const char* const kDashboardCss;
}  // namespace othrun::dashboard::assets
