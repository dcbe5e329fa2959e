// `othrun --inspect FILE`: what a checkpoint holds, like h5ls.
#pragma once

#include <filesystem>
#include <ostream>

namespace othrun {

// Prints every tensor (name, dtype, shape) and every non-tensor value (a pickled config's fields,
// the safetensors __metadata__, cfg.json) of a torch.save file (.pth, .pt), a .safetensors file,
// a .json file or a SAELens folder (cfg.json + *.safetensors). The format is recognised from the
// content, not the extension. Throws othrun::DataError naming the file on anything it cannot read.
void inspect_file(const std::filesystem::path& path, std::ostream& out);

}  // namespace othrun
