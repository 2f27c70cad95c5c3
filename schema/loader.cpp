// Loading a spec (see loader.h for the contract): reading the file and the
// YAML syntax layer (parse errors become positioned diagnostics, one
// document per file). Decoding and validation are the Decoder's
// (schema/decode_internal.h).
#include "schema/loader.h"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include "providers/base/utf8.h"
#include "schema/decode_internal.h"
#include "schema/yaml_syntax.h"

namespace edgecert::schema {

using detail::Decoder;
using detail::mark_of;
using spec::SourcePos;

LoadResult load_spec_text(const std::string& text, const std::string& path, Env& env,
                          const LoadOptions& options) {
  LoadResult r;
  if (text.size() > kMaxSpecBytes) {
    r.diagnostics.error(path, 0, 0,
                        fmt::format("the spec is {} bytes; a spec may be at most {} bytes (1 MiB): "
                                    "is this the right file?",
                                    text.size(), kMaxSpecBytes));
    return r;
  }
  // YAML 1.2 streams are Unicode, and edgecert reads them as UTF-8 only:
  // malformed bytes would otherwise pass into names, messages and JSON
  // (where nlohmann::json::dump throws on them). Refused before parsing, at
  // the first bad byte (the column counts bytes, as yaml-cpp's do).
  if (auto bad = find_invalid_utf8(text)) {
    detail::TextPos p = detail::text_pos(text, *bad);
    r.diagnostics.error(
        path, p.line, p.column,
        fmt::format("the spec is not valid UTF-8 (byte 0x{:02X} here); a spec must be UTF-8 text: "
                    "re-save the file as UTF-8",
                    static_cast<unsigned char>(text[*bad])));
    return r;
  }
  // yaml-cpp loops and allocates without bound on some malformed YAML: it
  // sees only text the syntax pass accepts.
  if (!detail::check_yaml_text(text, path, r.diagnostics)) return r;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    r.diagnostics.error(path, e.mark.line + 1, e.mark.column + 1,
                        fmt::format("YAML syntax error: {}", clip_for_message(e.msg)));
    return r;
  } catch (const YAML::Exception& e) {
    r.diagnostics.error(path, e.mark.is_null() ? 0 : e.mark.line + 1,
                        e.mark.is_null() ? 0 : e.mark.column + 1,
                        fmt::format("YAML error: {}", clip_for_message(e.msg)));
    return r;
  }
  // One cluster per file: a second document would otherwise be ignored silently.
  if (docs.size() > 1) {
    SourcePos p = mark_of(docs[1]);
    r.diagnostics.error(path, p.line, p.column,
                        "a spec file holds exactly one YAML document; put each cluster in its own "
                        "file");
  }
  YAML::Node root = docs.empty() ? YAML::Node() : docs[0];
  Decoder d(path, env, options, r.diagnostics);
  d.run(root);
  if (!r.diagnostics.has_errors()) r.spec = std::move(d.spec());
  return r;
}

LoadResult load_spec_file(const std::string& path, Env& env, const LoadOptions& options) {
  auto text = env.read_file(path, read_limits::kSpec);
  if (!text) {
    LoadResult r;
    r.diagnostics.error(path, 0, 0, text.error().message);
    return r;
  }
  return load_spec_text(*text, path, env, options);
}

}  // namespace edgecert::schema
