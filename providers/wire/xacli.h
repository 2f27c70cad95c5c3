// The Expressway CLI (TANDBERG XACLI) as text, both directions: replies
// parsed into a typed tree (the provider) and formatted from one (the
// simulator); command lines built (the provider) and parsed (the simulator).
// Shapes per the interface reference (expressway-interfaces.md §3.4, as
// docs/ARCHITECTURE.md's wire row says); pure functions, no I/O.
//
// A reply is a sequence of blocks followed by one final line `OK` or `ERROR`
// (blank lines may come between anything):
//   *s SystemUnit: /            status block: children indented 5 spaces,
//        Product: "TANDBERG VCS"   +2 per level, `*s/end` closes it
//        Software:                 a key without a value holds children
//          Version: "X15.0.2"
//   *s/end
//   *c xConfiguration SIP TLS Certificate Revocation Checking Mode: On
//   *r Result (status=OK):      command result, same indentation, `*r/end`
//        Reason: "No CSR is pending"
//   *r/end
//   OK
// Values are strings in double quotes (`\"`, `\n` and `\\` escaped) or bare
// numbers and enum words. Anything else (a truncated reply without its final
// line, an unterminated block, an indentation that is not 5 + 2k or jumps a
// level, a line of unknown shape) is a kCorrupt error naming the line number,
// what was expected and the start of the offending line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/error.h"

namespace edgecert::wire::xacli {

// A value as the CLI prints it: quoted strings and bare words are told apart
// so a formatter prints them the way they came (`"Default"` vs `On`).
struct Value {
  enum class Kind { kString, kBare };
  Kind kind = Kind::kString;
  std::string text;  // unescaped

  static Value string(std::string s) { return {Kind::kString, std::move(s)}; }
  static Value bare(std::string s) { return {Kind::kBare, std::move(s)}; }
  friend bool operator==(const Value&, const Value&) = default;
};

// One `Key: value` line, or a `Key:` line holding indented children.
struct Node {
  std::string key;
  std::optional<Value> value;  // nullopt: a parent (children may be empty)
  std::vector<Node> children;

  static Node leaf(std::string k, Value v) { return {std::move(k), std::move(v), {}}; }
  static Node parent(std::string k, std::vector<Node> c) {
    return {std::move(k), std::nullopt, std::move(c)};
  }
  friend bool operator==(const Node&, const Node&) = default;
};

// `*s PATH: /` ... `*s/end`.
struct StatusBlock {
  std::string path;  // "SystemUnit"
  std::vector<Node> children;
  friend bool operator==(const StatusBlock&, const StatusBlock&) = default;
};

// `*c xConfiguration PATH: VALUE`.
struct ConfigLine {
  std::string path;  // "SIP TLS Certificate Revocation Checking Mode"
  Value value;
  friend bool operator==(const ConfigLine&, const ConfigLine&) = default;
};

// `*r Result (status=OK|Error):` ... `*r/end`.
struct ResultBlock {
  bool ok = true;  // status=OK (true) or status=Error (false)
  std::vector<Node> fields;
  friend bool operator==(const ResultBlock&, const ResultBlock&) = default;
};

// A whole reply. Blocks of one kind keep their order; the formatter prints
// status blocks, then configuration lines, then results.
struct Reply {
  std::vector<StatusBlock> status;
  std::vector<ConfigLine> config;
  std::vector<ResultBlock> results;
  bool ok = true;  // the final line: OK (true) or ERROR (false)
  friend bool operator==(const Reply&, const Reply&) = default;
};

// Parses one reply. Lines may end in CRLF or LF. When `echo` is given and the
// first non-blank line equals it, that line is skipped (a pty that echoes the
// command). Only blank lines may follow the final OK/ERROR.
Result<Reply> parse_reply(std::string_view text, std::string_view echo = {});

// Formats a reply exactly as parse_reply reads it, each line ending in `eol`
// (CRLF on the wire). A blank line precedes the final OK/ERROR.
std::string format_reply(const Reply& reply, std::string_view eol = "\r\n");

// The reply to a command that failed: `*r Result (status=Error):`,
// `Reason: "<reason>"`, `*r/end`, `ERROR`.
Reply error_reply(std::string reason);

// The first node named `key` (exact match), or nullptr.
const Node* find(const std::vector<Node>& nodes, std::string_view key);
// The value of the leaf `key`, or kCorrupt naming `key` and `what` (the
// command whose reply it is) when it is missing or holds children.
Result<Value> field(const std::vector<Node>& nodes, std::string_view key, std::string_view what);

// ---------------------------------------------------------------------------
// Command lines: `WORD... [Name: value]...`, e.g.
//   xCommand ACME Settings Write AcmeManaged: "Automated" RenewalSchedule: '{"a":1}'
//   xConfiguration SIP TLS Certificate Revocation Checking Mode: On
// In the second, `Mode` is the argument name and the words before it the path.

enum class Quote { kBare, kDouble, kSingle };

struct Arg {
  std::string name;
  std::string value;
  Quote quote = Quote::kDouble;
  friend bool operator==(const Arg&, const Arg&) = default;
};

struct CommandLine {
  std::vector<std::string> words;  // "xCommand", "ACME", "Settings", "Write"
  std::vector<Arg> args;
  friend bool operator==(const CommandLine&, const CommandLine&) = default;

  // Whether the words are exactly `expected`, compared case-insensitively
  // (the CLI's keywords are).
  bool is(std::initializer_list<std::string_view> expected) const;
  // Whether the words start with `prefix` (case-insensitive).
  bool starts_with(std::initializer_list<std::string_view> prefix) const;
  // The argument named `name` (case-insensitive), or nullptr.
  const Arg* arg(std::string_view name) const;
};

// One line, no line ending. Double-quoted values escape `"`, `\` and newlines
// (`\"`, `\\`, `\n`); single-quoted values are verbatim (JSON). kInvalidArgument
// naming the argument for a value its quoting cannot carry: a bare value that
// is empty or holds a space, quote or colon; a single-quoted value holding `'`
// or a line break; a word or name that is empty or holds a space, quote or
// colon.
Result<std::string> format_command(const CommandLine& command);

// The server side: words until the first `Name:`, then `Name: value` pairs.
// Values are bare (up to the next space), "double" (with the escapes above)
// or 'single' (verbatim). kInvalidArgument naming the column for an empty
// line, an unterminated quote, a name without a value, or a word after the
// arguments.
Result<CommandLine> parse_command(std::string_view line);

}  // namespace edgecert::wire::xacli
