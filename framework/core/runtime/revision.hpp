// The framework's source revision (git describe), recorded in every product's provenance.
#pragma once

namespace othrun {
const char* framework_revision();
}
