// Small HTML helpers of the report writer. Internal to libothrun_core.
#pragma once

#include <string>
#include <string_view>

namespace othrun::report::html {

// Escapes text for an element body or a quoted attribute.
std::string escape(std::string_view text);
// JSON made safe inside <script type="application/json">: every '<' (which JSON only has inside
// strings) becomes \u003c, so no "</script>" or "<!--" can end or confuse the element.
std::string script_safe_json(std::string_view json);
// The anchor of a figure and of a step: "fig-<label>/<name>", "step-<label>".
std::string figure_anchor(const std::string& label, const std::string& name);
std::string step_anchor(const std::string& label);

}  // namespace othrun::report::html
