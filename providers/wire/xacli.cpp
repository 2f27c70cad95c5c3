#include "providers/wire/xacli.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace edgecert::wire::xacli {

namespace {

constexpr size_t kBaseIndent = 5;   // children of a block
constexpr size_t kLevelIndent = 2;  // each level below

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The start of a line for an error message: bounded, control characters shown.
std::string excerpt(std::string_view line) {
  std::string out;
  for (char c : line.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (line.size() > 60) out += "...";
  return out;
}

struct Line {
  size_t number;  // 1-based
  std::string_view text;
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  size_t number = 1;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({number++, line});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

Error corrupt_at(const Line& line, std::string_view expected) {
  return Error::Corrupt(fmt::format("CLI reply line {}: expected {}, got '{}'", line.number,
                                    expected, excerpt(line.text)));
}

// A double-quoted value starting at s[0] == '"'. Sets `end` past the closing
// quote. nullopt with `problem` set when malformed.
std::optional<std::string> unquote(std::string_view s, size_t& end, std::string& problem) {
  std::string out;
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      end = i + 1;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == s.size()) break;
    switch (s[i]) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      default:
        problem = fmt::format("a known escape (\\\", \\\\, \\n, \\r), not '\\{}'", s[i]);
        return std::nullopt;
    }
  }
  problem = "a closing '\"'";
  return std::nullopt;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

// `"text"` or a bare word (the rest of the line, trimmed).
Result<Value> parse_value(const Line& line, std::string_view s) {
  s = trim(s);
  if (s.empty()) return corrupt_at(line, "a value after ': '");
  if (s.front() != '"') {
    if (s.find('"') != std::string_view::npos)
      return corrupt_at(line, "a bare value or one string in double quotes");
    return Value::bare(std::string(s));
  }
  size_t end = 0;
  std::string problem;
  auto text = unquote(s, end, problem);
  if (!text) return corrupt_at(line, problem);
  if (!trim(s.substr(end)).empty()) return corrupt_at(line, "nothing after the closing '\"'");
  return Value::string(std::move(*text));
}

std::string format_value(const Value& v) {
  // A bare value cannot hold a line break; print it as a string then.
  if (v.kind == Value::Kind::kBare && !v.text.empty() &&
      v.text.find_first_of("\r\n\"") == std::string::npos)
    return v.text;
  return quote(v.text);
}

class Parser {
 public:
  explicit Parser(std::vector<Line> lines) : lines_(std::move(lines)) {}

  Result<Reply> parse(std::string_view echo) {
    skip_blank();
    if (!echo.empty() && i_ < lines_.size() && trim(lines_[i_].text) == trim(echo)) ++i_;
    Reply reply;
    while (true) {
      skip_blank();
      if (i_ == lines_.size()) {
        return Error::Corrupt(
            lines_.empty()
                ? std::string("CLI reply is empty: expected a final OK or ERROR line")
                : fmt::format("CLI reply is truncated: expected a final OK or ERROR line after "
                              "line {}",
                              lines_.back().number));
      }
      const Line& line = lines_[i_++];
      // Trailing spaces are not significant anywhere.
      std::string_view t = line.text;
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
      if (t == "OK" || t == "ERROR") {
        reply.ok = t == "OK";
        skip_blank();
        if (i_ != lines_.size()) return corrupt_at(lines_[i_], "nothing after the final OK/ERROR");
        return reply;
      }
      if (t.starts_with("*s ")) {
        std::string_view head = t.substr(3);
        if (!head.ends_with(": /") || trim(head.substr(0, head.size() - 3)).empty())
          return corrupt_at(line, "'*s PATH: /'");
        StatusBlock block{std::string(trim(head.substr(0, head.size() - 3))), {}};
        auto children = parse_block(line, "*s/end");
        if (!children) return children.error();
        block.children = std::move(*children);
        reply.status.push_back(std::move(block));
      } else if (t.starts_with("*c ")) {
        std::string_view rest = t.substr(3);
        constexpr std::string_view kPrefix = "xConfiguration ";
        size_t colon = rest.find(':');
        if (rest.size() < kPrefix.size() || !iequals(rest.substr(0, kPrefix.size()), kPrefix) ||
            colon == std::string_view::npos || colon + 1 >= rest.size() || rest[colon + 1] != ' ')
          return corrupt_at(line, "'*c xConfiguration PATH: VALUE'");
        std::string_view path = trim(rest.substr(kPrefix.size(), colon - kPrefix.size()));
        if (path.empty()) return corrupt_at(line, "'*c xConfiguration PATH: VALUE'");
        auto value = parse_value(line, rest.substr(colon + 1));
        if (!value) return value.error();
        reply.config.push_back({std::string(path), std::move(*value)});
      } else if (t == "*r Result (status=OK):" || t == "*r Result (status=Error):") {
        ResultBlock block{t == "*r Result (status=OK):", {}};
        auto fields = parse_block(line, "*r/end");
        if (!fields) return fields.error();
        block.fields = std::move(*fields);
        reply.results.push_back(std::move(block));
      } else {
        return corrupt_at(line,
                          "'*s PATH: /', '*c xConfiguration ...', '*r Result (status=OK|Error):' "
                          "or a final OK/ERROR");
      }
    }
  }

 private:
  void skip_blank() {
    while (i_ < lines_.size() && trim(lines_[i_].text).empty()) ++i_;
  }

  // Index of the next non-blank line (lines_.size() at the end).
  size_t peek() {
    skip_blank();
    return i_;
  }

  // Indentation level of a field line: 0 for 5 spaces, 1 for 7, ...; -1 for
  // a line that is not a field line (a marker, a final line).
  static long level_of(std::string_view t) {
    size_t n = 0;
    while (n < t.size() && t[n] == ' ') ++n;
    if (n == 0) return -1;
    if (n < kBaseIndent || (n - kBaseIndent) % kLevelIndent != 0) return -2;
    return static_cast<long>((n - kBaseIndent) / kLevelIndent);
  }

  Result<std::vector<Node>> parse_block(const Line& opener, std::string_view end_marker) {
    std::vector<Node> nodes;
    auto st = parse_level(0, nodes, opener, end_marker);
    if (!st) return st.error();
    if (peek() == lines_.size())
      return Error::Corrupt(fmt::format(
          "CLI reply is truncated: expected '{}' closing the block opened on line {} ('{}')",
          end_marker, opener.number, excerpt(opener.text)));
    const Line& line = lines_[i_];
    if (trim(line.text) != end_marker)
      return corrupt_at(line, fmt::format("an indented field or '{}' closing the block opened "
                                          "on line {}",
                                          end_marker, opener.number));
    ++i_;
    return nodes;
  }

  Status parse_level(long level, std::vector<Node>& out, const Line& opener,
                     std::string_view end_marker) {
    while (peek() < lines_.size()) {
      const Line& line = lines_[i_];
      long l = level_of(line.text);
      if (l == -1) return {};  // end of the block (checked by the caller)
      if (l == -2 || l > level) {
        return corrupt_at(line,
                          fmt::format("a field indented {} spaces{} (block opened on line {})",
                                      kBaseIndent + static_cast<size_t>(level) * kLevelIndent,
                                      level > 0 ? " or less" : "", opener.number));
      }
      if (l < level) return {};
      ++i_;
      std::string_view t = trim(line.text);
      size_t colon = t.find(':');
      if (colon == 0 || colon == std::string_view::npos)
        return corrupt_at(line, "'Key: value' or 'Key:'");
      std::string key(trim(t.substr(0, colon)));
      std::string_view rest = t.substr(colon + 1);
      if (trim(rest).empty()) {
        Node parent = Node::parent(std::move(key), {});
        auto st = parse_level(level + 1, parent.children, opener, end_marker);
        if (!st) return st;
        out.push_back(std::move(parent));
        continue;
      }
      if (rest.front() != ' ') return corrupt_at(line, "'Key: value' (a space after ':')");
      auto value = parse_value(line, rest);
      if (!value) return value.error();
      out.push_back(Node::leaf(std::move(key), std::move(*value)));
    }
    return {};
  }

  std::vector<Line> lines_;
  size_t i_ = 0;
};

void format_nodes(const std::vector<Node>& nodes, size_t level, std::string_view eol,
                  std::string& out) {
  for (const Node& n : nodes) {
    out += std::string(kBaseIndent + level * kLevelIndent, ' ');
    out += n.key;
    out += ':';
    if (n.value) {
      out += ' ';
      out += format_value(*n.value);
      out += eol;
    } else {
      out += eol;
      format_nodes(n.children, level + 1, eol, out);
    }
  }
}

}  // namespace

Result<Reply> parse_reply(std::string_view text, std::string_view echo) {
  return Parser(split_lines(text)).parse(echo);
}

std::string format_reply(const Reply& reply, std::string_view eol) {
  std::string out;
  for (const StatusBlock& b : reply.status) {
    out += fmt::format("*s {}: /{}", b.path, eol);
    format_nodes(b.children, 0, eol, out);
    out += fmt::format("*s/end{}", eol);
  }
  for (const ConfigLine& c : reply.config)
    out += fmt::format("*c xConfiguration {}: {}{}", c.path, format_value(c.value), eol);
  for (const ResultBlock& r : reply.results) {
    out += fmt::format("*r Result (status={}):{}", r.ok ? "OK" : "Error", eol);
    format_nodes(r.fields, 0, eol, out);
    out += fmt::format("*r/end{}", eol);
  }
  out += eol;
  out += reply.ok ? "OK" : "ERROR";
  out += eol;
  return out;
}

Reply error_reply(std::string reason) {
  Reply r;
  r.results.push_back({false, {Node::leaf("Reason", Value::string(std::move(reason)))}});
  r.ok = false;
  return r;
}

const Node* find(const std::vector<Node>& nodes, std::string_view key) {
  for (const Node& n : nodes)
    if (n.key == key) return &n;
  return nullptr;
}

Result<Value> field(const std::vector<Node>& nodes, std::string_view key, std::string_view what) {
  const Node* n = find(nodes, key);
  if (n == nullptr)
    return Error::Corrupt(fmt::format("reply to '{}' has no field '{}'", what, key));
  if (!n->value)
    return Error::Corrupt(
        fmt::format("reply to '{}': field '{}' holds fields, expected a value", what, key));
  return *n->value;
}

// --- command lines ----------------------------------------------------------

namespace {

bool plain_token(std::string_view s) {
  return !s.empty() && s.find_first_of(" \t\r\n\"':") == std::string_view::npos;
}

bool iequal_words(const std::vector<std::string>& words, size_t n,
                  std::initializer_list<std::string_view> expected) {
  if (words.size() < n) return false;
  size_t i = 0;
  for (std::string_view e : expected)
    if (!iequals(words[i++], e)) return false;
  return true;
}

}  // namespace

bool CommandLine::is(std::initializer_list<std::string_view> expected) const {
  return words.size() == expected.size() && iequal_words(words, expected.size(), expected);
}

bool CommandLine::starts_with(std::initializer_list<std::string_view> prefix) const {
  return iequal_words(words, prefix.size(), prefix);
}

const Arg* CommandLine::arg(std::string_view name) const {
  for (const Arg& a : args)
    if (iequals(a.name, name)) return &a;
  return nullptr;
}

Result<std::string> format_command(const CommandLine& command) {
  if (command.words.empty()) return Error::InvalidArgument("CLI command has no words");
  std::string out;
  for (const std::string& w : command.words) {
    if (!plain_token(w))
      return Error::InvalidArgument(fmt::format(
          "CLI command word '{}' is empty or holds a space, quote or colon", excerpt(w)));
    if (!out.empty()) out += ' ';
    out += w;
  }
  for (const Arg& a : command.args) {
    if (!plain_token(a.name))
      return Error::InvalidArgument(fmt::format(
          "CLI argument name '{}' is empty or holds a space, quote or colon", excerpt(a.name)));
    out += fmt::format(" {}: ", a.name);
    switch (a.quote) {
      case Quote::kBare:
        if (!plain_token(a.value))
          return Error::InvalidArgument(fmt::format(
              "CLI argument {}: a bare value must be one word without quotes or colons", a.name));
        out += a.value;
        break;
      case Quote::kSingle:
        if (a.value.find_first_of("'\r\n") != std::string::npos)
          return Error::InvalidArgument(fmt::format(
              "CLI argument {}: a single-quoted value cannot hold ' or a line break", a.name));
        out += '\'' + a.value + '\'';
        break;
      case Quote::kDouble:
        out += quote(a.value);
        break;
    }
  }
  return out;
}

Result<CommandLine> parse_command(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  CommandLine cmd;
  size_t i = 0;
  auto bad = [&](size_t col, std::string_view what) {
    return Error::InvalidArgument(
        fmt::format("CLI command, column {}: {} in '{}'", col + 1, what, excerpt(line)));
  };
  auto skip_space = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  };
  skip_space();
  if (i == line.size()) return Error::InvalidArgument("CLI command is empty");
  while (true) {
    skip_space();
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != ':') {
      if (line[i] == '"' || line[i] == '\'') return bad(i, "a quote where a word belongs");
      ++i;
    }
    std::string_view word = line.substr(start, i - start);
    if (i == line.size() || line[i] != ':') {
      if (!cmd.args.empty()) return bad(start, "expected 'Name: value' after the arguments");
      cmd.words.emplace_back(word);
      continue;
    }
    if (word.empty()) return bad(start, "an argument without a name");
    ++i;  // ':'
    skip_space();
    if (i == line.size()) return bad(start, fmt::format("argument '{}' without a value", word));
    Arg a{std::string(word), {}, Quote::kBare};
    if (line[i] == '"') {
      size_t end = 0;
      std::string problem;
      auto v = unquote(line.substr(i), end, problem);
      if (!v) return bad(i, fmt::format("argument '{}': expected {}", word, problem));
      a.value = std::move(*v);
      a.quote = Quote::kDouble;
      i += end;
    } else if (line[i] == '\'') {
      size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos)
        return bad(i, fmt::format("argument '{}': expected a closing \"'\"", word));
      a.value = std::string(line.substr(i + 1, close - i - 1));
      a.quote = Quote::kSingle;
      i = close + 1;
    } else {
      size_t vstart = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      a.value = std::string(line.substr(vstart, i - vstart));
    }
    if (i < line.size() && line[i] != ' ' && line[i] != '\t')
      return bad(i, fmt::format("argument '{}': expected a space after the value", word));
    cmd.args.push_back(std::move(a));
  }
  if (cmd.words.empty()) return bad(0, "a command word before the arguments");
  return cmd;
}

}  // namespace edgecert::wire::xacli
