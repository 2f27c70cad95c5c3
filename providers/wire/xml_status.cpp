#include "providers/wire/xml_status.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>

#include <fmt/format.h>

namespace edgecert::wire::xml {

namespace {

// libxml2 2.9 must be initialised once before threads use it (the simulator
// answers from several threads); its lazy initialisation is not thread-safe.
void init_libxml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

const xmlChar* X(const char* s) {
  return reinterpret_cast<const xmlChar*>(s);
}
const char* C(const xmlChar* s) {
  return reinterpret_cast<const char*>(s);
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool looks_like_html(std::string_view body) {
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  std::string start;
  for (char c : body) {
    if (start.empty() && std::isspace(static_cast<unsigned char>(c))) continue;
    start += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (start.size() == 14) break;
  }
  return start.starts_with("<!doctype html") || start.starts_with("<html");
}

Error html_error(std::string_view what) {
  return Error::Corrupt(fmt::format(
      "{} is an HTML page (a login or proxy page?), not the XML document expected", what));
}

Result<DocPtr> read_xml(std::string_view body, std::string_view what) {
  if (body.size() > kMaxXmlBytes)
    return Error::Corrupt(fmt::format("{} is {} bytes, over the {} bytes edgecert reads", what,
                                      body.size(), kMaxXmlBytes));
  if (looks_like_html(body)) return html_error(what);
  init_libxml();
  xmlResetLastError();
  // NONET: never fetch anything; no NOENT: entities are not substituted.
  DocPtr doc(xmlReadMemory(body.data(), static_cast<int>(body.size()), "reply.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    const xmlError* e = xmlGetLastError();
    std::string detail = e != nullptr && e->message != nullptr ? trim(e->message) : "unknown";
    int line = e != nullptr ? e->line : 0;
    return Error::Corrupt(fmt::format("{} is not XML (line {}: {})", what, line, detail));
  }
  // An XHTML page parses as XML (with a DTD): name it for what it is.
  if (const xmlNode* root = xmlDocGetRootElement(doc.get());
      root != nullptr && std::strcmp(C(root->name), "html") == 0)
    return html_error(what);
  if (doc->intSubset != nullptr || doc->extSubset != nullptr)
    return Error::Corrupt(fmt::format("{} declares a DTD, which edgecert refuses", what));
  return doc;
}

bool ours(const xmlNode* n) {
  return n->type == XML_ELEMENT_NODE &&
         (n->ns == nullptr || std::strcmp(C(n->ns->href), kCuilNamespace) == 0);
}

bool named(const xmlNode* n, const char* name) {
  return ours(n) && std::strcmp(C(n->name), name) == 0;
}

const xmlNode* child(const xmlNode* parent, const char* name) {
  for (const xmlNode* c = parent->children; c != nullptr; c = c->next)
    if (named(c, name)) return c;
  return nullptr;
}

std::vector<const xmlNode*> children(const xmlNode* parent, const char* name) {
  std::vector<const xmlNode*> out;
  for (const xmlNode* c = parent->children; c != nullptr; c = c->next)
    if (named(c, name)) out.push_back(c);
  return out;
}

std::string text_of(const xmlNode* n) {
  xmlChar* content = xmlNodeGetContent(n);
  std::string s = content != nullptr ? trim(C(content)) : std::string();
  xmlFree(content);
  return s;
}

std::string attribute(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, X(name));
  std::string s = v != nullptr ? trim(C(v)) : std::string();
  xmlFree(v);
  return s;
}

Result<std::string> required_text(const xmlNode* parent, const char* name, std::string_view where) {
  const xmlNode* c = child(parent, name);
  if (c == nullptr) return Error::Corrupt(fmt::format("XML {} has no <{}> element", where, name));
  return text_of(c);
}

template <class Int>
Result<Int> number(std::string_view text, std::string_view element) {
  Int v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // Every number these documents carry (uptime, peer indexes) is a whole
  // number: a minus sign is a lie, not a value to carry on with.
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() || text.front() == '-')
    return Error::Corrupt(
        fmt::format("XML <{}> is '{}', expected a whole number", element, text.substr(0, 40)));
  return v;
}

Result<const xmlNode*> root_named(const xmlDoc* doc, const char* name, std::string_view what) {
  const xmlNode* root = xmlDocGetRootElement(doc);
  if (root == nullptr) return Error::Corrupt(fmt::format("{} has no root element", what));
  if (std::strcmp(C(root->name), "html") == 0) return html_error(what);
  if (!named(root, name))
    return Error::Corrupt(
        fmt::format("{}: expected root element <{}> (namespace {}), got <{}>{}", what, name,
                    kCuilNamespace, C(root->name),
                    root->ns != nullptr && std::strcmp(C(root->ns->href), kCuilNamespace) != 0
                        ? fmt::format(" in namespace {}", C(root->ns->href))
                        : std::string()));
  return root;
}

Result<SystemUnit> system_unit_of(const xmlNode* su) {
  SystemUnit out;
  auto product = required_text(su, "Product", "SystemUnit");
  if (!product) return product.error();
  out.product = *product;
  if (const xmlNode* type = child(su, "ProductType")) out.product_type = text_of(type);
  auto uptime = required_text(su, "Uptime", "SystemUnit");
  if (!uptime) return uptime.error();
  auto seconds = number<std::int64_t>(*uptime, "Uptime");
  if (!seconds) return seconds.error();
  out.uptime_seconds = *seconds;
  const xmlNode* software = child(su, "Software");
  if (software == nullptr) return Error::Corrupt("XML SystemUnit has no <Software> element");
  auto version = required_text(software, "Version", "SystemUnit/Software");
  if (!version) return version.error();
  out.version = *version;
  return out;
}

// A document under construction.
class Builder {
 public:
  explicit Builder(const char* root_name) {
    init_libxml();
    doc_.reset(xmlNewDoc(X("1.0")));
    root_ = xmlNewDocNode(doc_.get(), nullptr, X(root_name), nullptr);
    xmlDocSetRootElement(doc_.get(), root_);
    xmlSetNs(root_, xmlNewNs(root_, X(kCuilNamespace), nullptr));
  }
  xmlNode* root() { return root_; }
  // <name item="item">text</name> (text escaped by libxml2), or an empty
  // parent when text is nullopt.
  xmlNode* add(xmlNode* parent, const char* name, std::optional<std::string_view> text,
               int item = 1) {
    xmlNode* n =
        xmlNewTextChild(parent, root_->ns, X(name), text ? X(std::string(*text).c_str()) : nullptr);
    xmlNewProp(n, X("item"), X(std::to_string(item).c_str()));
    return n;
  }
  std::string dump() {
    xmlChar* buf = nullptr;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc_.get(), &buf, &size, "UTF-8", 1);
    std::string out(C(buf), static_cast<size_t>(size));
    xmlFree(buf);
    return out;
  }

 private:
  DocPtr doc_;
  xmlNode* root_ = nullptr;
};

constexpr std::string_view kTlsPermissive =
    "Cluster TLS permissive - Cluster TLS verification mode permits invalid certificates";
constexpr std::string_view kCertValidity = "Server certificate validity - ";
constexpr std::string_view kSecurityAlert = "Security alert - ";
constexpr std::string_view kNoCrlPoints =
    "No CRL distribution points have been defined for automatic updates";
constexpr std::string_view kCrlUpdateFailed = "Automatic updating of CRL files has failed";
constexpr std::string_view kCrlDownloadFailed = "Unable to download CRL update";

}  // namespace

Result<StatusDocument> parse_status(std::string_view body) {
  constexpr std::string_view kWhat = "XML status reply";
  auto doc = read_xml(body, kWhat);
  if (!doc) return doc.error();
  auto root = root_named(doc->get(), "Status", kWhat);
  if (!root) return root.error();
  if (const xmlNode* xpath = child(*root, "XPathError")) {
    const xmlNode* reason = child(xpath, "Reason");
    return Error::NotFound(fmt::format("XML status: the node answered XPathError: {}",
                                       reason != nullptr ? text_of(reason) : text_of(xpath)));
  }
  StatusDocument out;
  out.product_attribute = attribute(*root, "product");
  out.version_attribute = attribute(*root, "version");
  if (const xmlNode* su = child(*root, "SystemUnit")) {
    auto unit = system_unit_of(su);
    if (!unit) return unit.error();
    out.system_unit = std::move(*unit);
  }
  if (const xmlNode* warnings = child(*root, "Warnings")) {
    std::vector<Warning> list;
    for (const xmlNode* w : children(warnings, "Warning")) {
      Warning warning;
      const xmlNode* id = child(w, "ID");
      warning.id = id != nullptr ? text_of(id) : std::string();
      auto reason = required_text(w, "Reason", "Warning");
      if (!reason) return reason.error();
      warning.reason = *reason;
      auto state = required_text(w, "State", "Warning");
      if (!state) return state.error();
      warning.state = *state;
      list.push_back(std::move(warning));
    }
    out.warnings = std::move(list);
  }
  return out;
}

std::string format_status(const StatusDocument& doc) {
  Builder b("Status");
  if (!doc.product_attribute.empty())
    xmlNewProp(b.root(), X("product"), X(doc.product_attribute.c_str()));
  if (!doc.version_attribute.empty())
    xmlNewProp(b.root(), X("version"), X(doc.version_attribute.c_str()));
  if (doc.system_unit) {
    const SystemUnit& su = *doc.system_unit;
    xmlNode* n = b.add(b.root(), "SystemUnit", std::nullopt);
    b.add(n, "Product", su.product);
    if (!su.product_type.empty()) b.add(n, "ProductType", su.product_type);
    b.add(n, "Uptime", std::to_string(su.uptime_seconds));
    b.add(b.add(n, "Software", std::nullopt), "Version", su.version);
  }
  if (doc.warnings) {
    xmlNode* ws = b.add(b.root(), "Warnings", std::nullopt);
    int item = 1;
    for (const Warning& w : *doc.warnings) {
      xmlNode* n = b.add(ws, "Warning", std::nullopt, item++);
      b.add(n, "ID", w.id);
      b.add(n, "Reason", w.reason);
      b.add(n, "State", w.state);
    }
  }
  return b.dump();
}

std::string format_xpath_error(std::string_view reason) {
  Builder b("Status");
  b.add(b.add(b.root(), "XPathError", std::nullopt), "Reason", reason);
  return b.dump();
}

std::optional<int> alarm_for_reason(std::string_view reason_text) {
  std::string reason = trim(reason_text);
  std::string_view r = reason;
  if (r == kTlsPermissive) return 40049;
  if (r.starts_with(kCertValidity)) {
    std::string_view d = r.substr(kCertValidity.size());
    if (d == "Server certificate expired" || d == "Server certificate expires today") return 40068;
    constexpr std::string_view kIn = "Server certificate expires in ";
    if (d.starts_with(kIn)) {
      d.remove_prefix(kIn.size());
      size_t digits = 0;
      while (digits < d.size() && std::isdigit(static_cast<unsigned char>(d[digits]))) ++digits;
      std::string_view unit = d.substr(digits);
      if (digits > 0 && (unit == " days" || unit == " day")) return 40069;
    }
    return std::nullopt;
  }
  if (r.starts_with(kSecurityAlert)) {
    std::string_view d = r.substr(kSecurityAlert.size());
    if (d == kNoCrlPoints) return 40001;
    if (d == kCrlUpdateFailed) return 40002;
    if (d == kCrlDownloadFailed) return 40006;
  }
  return std::nullopt;
}

Result<std::string> reason_for_alarm(int alarm, int days) {
  switch (alarm) {
    case 40049:
      return std::string(kTlsPermissive);
    case 40068:
      return std::string(kCertValidity) + "Server certificate expired";
    case 40069:
      return fmt::format("{}Server certificate expires in {} days", kCertValidity, days);
    case 40001:
      return std::string(kSecurityAlert) + std::string(kNoCrlPoints);
    case 40002:
      return std::string(kSecurityAlert) + std::string(kCrlUpdateFailed);
    case 40006:
      return std::string(kSecurityAlert) + std::string(kCrlDownloadFailed);
    default:
      return Error::InvalidArgument(fmt::format("alarm {} has no known Reason text", alarm));
  }
}

Result<Alternates> parse_alternates(std::string_view body) {
  constexpr std::string_view kWhat = "alternates configuration reply";
  auto doc = read_xml(body, kWhat);
  if (!doc) return doc.error();
  auto root = root_named(doc->get(), "Configuration", kWhat);
  if (!root) return root.error();
  const xmlNode* alt = child(*root, "Alternates");
  if (alt == nullptr) return Error::Corrupt("XML Configuration has no <Alternates> element");
  Alternates out;
  if (const xmlNode* cluster = child(alt, "Cluster")) {
    auto name = required_text(cluster, "Name", "Alternates/Cluster");
    if (!name) return name.error();
    out.cluster_name = *name;
  }
  if (const xmlNode* primary = child(alt, "ConfigurationPrimary")) {
    auto n = number<int>(text_of(primary), "ConfigurationPrimary");
    if (!n) return n.error();
    if (*n < 1 || *n > 6)
      return Error::Corrupt(fmt::format("XML <ConfigurationPrimary> is {}, expected 1 to 6", *n));
    out.configuration_primary = *n;
  }
  int position = 0;
  for (const xmlNode* p : children(alt, "Peer")) {
    ++position;
    int index = position;
    if (std::string item = attribute(p, "item"); !item.empty()) {
      auto n = number<int>(item, "Peer item");
      if (!n) return n.error();
      index = *n;
    }
    if (index < 1 || index > 6)
      return Error::Corrupt(fmt::format("XML <Peer item=\"{}\">: expected 1 to 6", index));
    const xmlNode* address = child(p, "Address");
    std::string a = address != nullptr ? text_of(address) : std::string();
    if (!a.empty()) out.peers.push_back({index, std::move(a)});
  }
  std::ranges::sort(out.peers, {}, &Peer::index);
  return out;
}

std::string format_alternates(const Alternates& a) {
  Builder b("Configuration");
  xmlNode* alt = b.add(b.root(), "Alternates", std::nullopt);
  b.add(b.add(alt, "Cluster", std::nullopt), "Name", a.cluster_name);
  if (a.configuration_primary != 0)
    b.add(alt, "ConfigurationPrimary", std::to_string(a.configuration_primary));
  // A node lists all six peer slots, the unused ones empty.
  for (int i = 1; i <= 6; ++i) {
    auto it = std::ranges::find(a.peers, i, &Peer::index);
    b.add(b.add(alt, "Peer", std::nullopt, i), "Address",
          it != a.peers.end() ? std::string_view(it->address) : std::string_view());
  }
  return b.dump();
}

}  // namespace edgecert::wire::xml
