// PLACEHOLDER until the decoder lands (replaced by schema/decode.cpp work).
#include "schema/loader.h"

namespace edgecert::schema {

LoadResult load_spec_text(const std::string&, const std::string& path, Env&, const LoadOptions&) {
  LoadResult r;
  r.diagnostics.error(path, 0, 0, "decoder not implemented yet");
  return r;
}

LoadResult load_spec_file(const std::string& path, Env& env, const LoadOptions& options) {
  auto text = env.read_file(path);
  if (!text) {
    LoadResult r;
    r.diagnostics.error(path, 0, 0, text.error().message);
    return r;
  }
  return load_spec_text(*text, path, env, options);
}

}  // namespace edgecert::schema
