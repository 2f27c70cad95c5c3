// The Markdown form of a plan (render_plan_markdown), for a pull-request
// comment: a heading and summary, one table row per action, and the text
// form folded in <details>.
//
// Everything in it may come from a node (subjects, names) or an edited
// saved plan, and a comment is rendered as HTML by the Git host: table
// cells are escaped (HTML, pipes, line breaks, Markdown emphasis and links),
// and the folded text is a code block fenced longer than any backtick run
// inside it, so nothing in a plan can close it or inject markup.
#include <algorithm>

#include <fmt/core.h>

#include "reconciler/engine/plan.h"

namespace edgecert {
namespace {

// A table cell: one line, inert.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '|':
        out += "&#124;";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '#':
      case '!':
      case '~':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A fence of backticks longer than the longest run in `text` (at least 3).
std::string fence_for(std::string_view text) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<size_t>(3, longest + 1), '`');
}

}  // namespace

std::string markdown_text(std::string_view s) {
  return cell(s);
}

std::string render_plan_markdown(const Plan& p) {
  std::string out = fmt::format("### edgecert plan for cluster `{}`\n\n", cell(p.cluster));
  if (p.empty()) {
    out += "**No changes.** Live state matches the spec.\n";
  } else {
    out += fmt::format("**{}.**\n\n", cell(p.summary_line()));
    out += "| # | Node | Action | Why |\n|---:|---|---|---|\n";
    size_t i = 0;
    for (const auto& a : p.actions)
      out += fmt::format("| {} | {} | {}{} | {} |\n", ++i, cell(a.node),
                         cell(fmt::format("{} {}", a.traits().symbol, action_kind_name(a.kind()))),
                         a.manual ? " **(manual step)**" : "", cell(a.reason));
  }
  if (!p.notes.empty()) {
    out += "\n";
    for (const auto& n : p.notes) out += fmt::format("- {}\n", cell(n));
  }
  if (p.next_window) out += fmt::format("\nNext rollout window opens {}.\n", cell(*p.next_window));
  std::string text = render_plan_text(p);
  std::string fence = fence_for(text);
  out += fmt::format("\n<details><summary>Plan details</summary>\n\n{}text\n{}{}\n\n</details>\n",
                     fence, text, fence);
  out +=
      fmt::format("\nSpec `{}` (sha256 `{}`), planned {} by edgecert {}", cell(p.spec_path),
                  cell(p.spec_sha256.substr(0, 16)), cell(p.created_at), cell(p.edgecert_version));
  if (p.change_id) out += fmt::format(", change {}", cell(*p.change_id));
  if (p.git)
    out += fmt::format(", from {} {} at commit `{}`", cell(p.git->repository), cell(p.git->ref),
                       cell(p.git->commit.substr(0, 12)));
  if (!p.targets.empty()) {
    std::string t;
    for (const auto& n : p.targets) t += (t.empty() ? "" : ", ") + n;
    out += fmt::format(", targets {}", cell(t));
  }
  out += ".\n";
  return out;
}

}  // namespace edgecert
