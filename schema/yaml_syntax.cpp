// The syntax pass ahead of yaml-cpp (see yaml_syntax.h for the contract):
// a character scan, then libfyaml's event parser, which never builds a tree,
// so depth and node count are checked as the events stream by and the parse
// stops at the first problem.
#include "schema/yaml_syntax.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/core.h>
#include <libfyaml.h>

namespace edgecert::schema::detail {

TextPos text_pos(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t newline = offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
  return {line, static_cast<int>(offset - line_start) + 1};
}

namespace {

// The first character YAML 1.2 does not allow (§5.1 c-printable), as its
// byte offset and a name for it; the text is well-formed UTF-8.
struct BadChar {
  size_t offset;
  std::string name;
};

std::optional<BadChar> find_control_character(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return BadChar{i, "a NUL byte"};
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
      return BadChar{i, fmt::format("the control character 0x{:02X}", c)};
    // C1 controls U+0080..U+009F are C2 80..C2 9F; U+0085 (next line) is allowed.
    if (c == 0xC2 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F && next != 0x85)
        return BadChar{i, fmt::format("the control character U+{:04X}", next)};
    }
  }
  return std::nullopt;
}

// The byte offset of libfyaml's 1-based (line, character column); the end
// of the text when the position is past it (the parser reached the end).
size_t char_position_to_offset(std::string_view text, int line, int column) {
  size_t offset = 0;
  for (int l = 1; l < line && offset < text.size(); ++l) {
    size_t newline = text.find('\n', offset);
    offset = newline == std::string_view::npos ? text.size() : newline + 1;
  }
  for (int c = 1; c < column && offset < text.size() && text[offset] != '\n'; ++c) {
    ++offset;  // past the character's first byte, then its continuation bytes
    while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80)
      ++offset;
  }
  return offset;
}

// libfyaml states what it expected; these add what usually causes it, from
// the character at the error.
std::string hint_for(std::string_view text, size_t offset) {
  if (offset >= text.size())
    return "; the file ends in the middle of a value or of a [ ] or { } list";
  switch (text[offset]) {
    case ',':
    case '[':
    case ']':
    case '{':
    case '}':
      return fmt::format(
          "; '{}' has a meaning in YAML (a [ ] or {{ }} list): put quotes around a value that "
          "contains it",
          text[offset]);
    case '\t':
      return "; YAML indents with spaces, never tabs";
    case '@':
    case '`':
    case '%':
    case '!':
    case '&':
    case '*':
    case '|':
    case '>':
      return fmt::format("; a value cannot start with '{}' unquoted: put quotes around it",
                         text[offset]);
    default:
      return "; check the indentation and the quotes around here";
  }
}

struct ParserDeleter {
  void operator()(fy_parser* p) const { fy_parser_destroy(p); }
};
struct DiagDeleter {
  void operator()(fy_diag* d) const { fy_diag_destroy(d); }
};
struct EventFree {
  fy_parser* parser;
  void operator()(fy_event* e) const { fy_parser_event_free(parser, e); }
};

// The token's text for a message (anchors and tags are short unless hostile).
std::string token_text(fy_token* t) {
  size_t len = 0;
  const char* s = t ? fy_token_get_text(t, &len) : nullptr;
  return s ? clip_for_message(std::string_view(s, len)) : std::string();
}

// A tag as written ("!!str"), not as resolved ("tag:yaml.org,2002:str").
std::string tag_as_written(std::string_view text, fy_token* t) {
  const fy_mark* start = fy_token_start_mark(t);
  const fy_mark* end = fy_token_end_mark(t);
  if (start && end && start->input_pos < end->input_pos && end->input_pos <= text.size())
    return clip_for_message(text.substr(start->input_pos, end->input_pos - start->input_pos));
  return token_text(t);
}

}  // namespace

bool check_yaml_text(std::string_view text, const std::string& path, Diagnostics& diags) {
  if (auto bad = find_control_character(text)) {
    TextPos p = text_pos(text, bad->offset);
    diags.error(path, p.line, p.column,
                fmt::format("{} here: YAML does not allow control characters in a file (write "
                            "the value without it; a line break is written as a new line)",
                            bad->name));
    return false;
  }

  // A carriage return alone is a line break to YAML 1.2 and libfyaml but
  // not to yaml-cpp, whose scanner then loops and allocates without bound
  // (a fuzzed 6-byte spec, "#\rpp\n,"): the two would not read the same
  // text, so refuse it (LF and CRLF are fine).
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) {
      TextPos p = text_pos(text, i);
      diags.error(path, p.line, p.column,
                  "a carriage return without a line feed here (an old Mac OS line ending): "
                  "edgecert reads LF or CRLF line endings; save the file with one of those");
      return false;
    }

  // Diagnostics are collected (never printed) so the first error can be
  // positioned in our format.
  fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = nullptr;
  dcfg.output_fn = nullptr;
  dcfg.colorize = false;
  dcfg.level = FYET_ERROR;
  std::unique_ptr<fy_diag, DiagDeleter> diag(fy_diag_create(&dcfg));
  fy_parse_cfg cfg{};
  cfg.flags = static_cast<fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 |
                                              FYPCF_JSON_NONE | FYPCF_DISABLE_MMAP_OPT);
  cfg.diag = diag.get();
  std::unique_ptr<fy_parser, ParserDeleter> parser;
  if (diag) {
    fy_diag_set_collect_errors(diag.get(), true);
    parser.reset(fy_parser_create(&cfg));
  }
  if (!parser || fy_parser_set_string(parser.get(), text.data(), text.size()) != 0) {
    diags.error(path, 0, 0, "cannot check the YAML syntax: out of memory");
    return false;
  }

  // At the token the message is about when given (an empty scalar has no
  // position of its own), else at the event; libfyaml counts columns in
  // characters, diagnostics in bytes, so the position comes from the offset.
  auto fail_at = [&](fy_event* e, std::string message, fy_token* about = nullptr) {
    const fy_mark* m = about ? fy_token_start_mark(about) : nullptr;
    if (!m) m = fy_event_start_mark(e);
    TextPos p = m ? text_pos(text, m->input_pos) : TextPos{0, 0};
    diags.error(path, p.line, p.column, std::move(message));
    return false;
  };
  // The lists and mappings open at this point (at most kMaxNestingDepth):
  // where each starts and whether it is a [ ] or { } one, for an unclosed one.
  struct Open {
    size_t offset;
    bool flow;
  };
  std::vector<Open> open;
  size_t nodes = 0;
  while (fy_event* raw = fy_parser_parse(parser.get())) {
    std::unique_ptr<fy_event, EventFree> e(raw, EventFree{parser.get()});
    switch (e->type) {
      case FYET_ALIAS:
        return fail_at(e.get(),
                       fmt::format("an alias (*{}): a spec does not use YAML anchors and "
                                   "aliases; write the value out in full",
                                   token_text(e->alias.anchor)),
                       e->alias.anchor);
      case FYET_SCALAR:
      case FYET_SEQUENCE_START:
      case FYET_MAPPING_START:
        if (fy_token* a = fy_event_get_anchor_token(e.get()))
          return fail_at(e.get(),
                         fmt::format("an anchor (&{}): a spec does not use YAML anchors and "
                                     "aliases; write each value out in full",
                                     token_text(a)),
                         a);
        if (fy_token* t = fy_event_get_tag_token(e.get()))
          return fail_at(e.get(),
                         fmt::format("a tag ({}): a spec does not use YAML tags; put "
                                     "quotes around a value to make it a string",
                                     tag_as_written(text, t)),
                         t);
        if (++nodes > kMaxYamlNodes)
          return fail_at(e.get(),
                         fmt::format("more than {} values, lists and mappings in the spec: a "
                                     "cluster spec has a few hundred; is this the right file?",
                                     kMaxYamlNodes));
        if (e->type != FYET_SCALAR) {
          if (open.size() >= static_cast<size_t>(kMaxNestingDepth))
            return fail_at(e.get(), fmt::format("nesting deeper than {} levels (lists and mappings "
                                                "inside each other); a spec needs about 6",
                                                kMaxNestingDepth));
          const fy_mark* m = fy_event_start_mark(e.get());
          open.push_back({m ? m->input_pos : 0, fy_event_get_node_style(e.get()) == FYNS_FLOW});
        }
        break;
      case FYET_SEQUENCE_END:
      case FYET_MAPPING_END:
        if (!open.empty()) open.pop_back();
        break;
      default:
        break;
    }
  }
  if (fy_parser_get_stream_error(parser.get())) {
    void* it = nullptr;
    while (fy_diag_error* de = fy_diag_errors_iterate(diag.get(), &it)) {
      if (de->type < FYET_ERROR) continue;
      std::string what = de->msg ? clip_for_message(de->msg) : "malformed YAML";
      if (de->line < 1 || de->column < 1) {
        diags.error(path, 0, 0, fmt::format("YAML syntax error: {}", what));
        return false;
      }
      size_t offset = char_position_to_offset(text, de->line, de->column);
      // Ran off the end inside a [ ] or { }: the bracket that is never
      // closed is what to fix, not the end of the file. (A flow collection
      // may also start at a key, as "[a: b]" does: the bracket is further out.)
      auto unclosed = std::find_if(open.rbegin(), open.rend(), [&](const Open& o) {
        return o.flow && o.offset < text.size() && (text[o.offset] == '[' || text[o.offset] == '{');
      });
      if (offset >= text.size() && unclosed != open.rend()) {
        TextPos p = text_pos(text, unclosed->offset);
        char bracket = text[unclosed->offset];
        diags.error(path, p.line, p.column,
                    fmt::format("YAML syntax error: {}; this '{}' is never closed with '{}'", what,
                                bracket, bracket == '{' ? '}' : ']'));
        return false;
      }
      TextPos p = text_pos(text, offset);
      diags.error(path, p.line, p.column,
                  fmt::format("YAML syntax error: {}{}", what, hint_for(text, offset)));
      return false;
    }
    diags.error(path, 0, 0, "YAML syntax error (the YAML parser gave no position)");
    return false;
  }
  return true;
}

}  // namespace edgecert::schema::detail
