// The report page's fixed style sheet and render script. Internal to libothrun_core.
#pragma once

namespace othrun::report::assets {

extern const char* const kStyle;
// Runs first (before plotly loads): records uncaught errors and console.error calls in
// window.othrunErrors, so the render script can show them.
extern const char* const kErrorHookScript;
// Renders every div.plot from its JSON; marks <body data-render-state="done|errors|no-plotly">
// and data-render-errors, and shows failures in #render-errors, so a reader (and the browser
// test) sees what went wrong.
extern const char* const kRenderScript;

}  // namespace othrun::report::assets
