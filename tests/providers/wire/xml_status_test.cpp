#include "providers/wire/xml_status.h"

#include <catch2/catch.hpp>

using namespace edgecert;
using namespace edgecert::wire::xml;

namespace {

// The reference's capture (expressway-interfaces.md §3.3, a real X8.11.3
// status.xml in shape), with the XML declaration a node sends.
constexpr const char* kStatusXml = R"(<?xml version="1.0" encoding="UTF-8"?>
<Status xmlns="http://www.tandberg.no/XML/CUIL/1.0" product="TANDBERG VCS" version="X15.0.2">
 <SystemUnit item="1"><Product item="1">TANDBERG VCS</Product><Uptime item="1">2492</Uptime>
  <Software item="1"><Version item="1">X15.0.2</Version></Software></SystemUnit>
 <Warnings item="1"><Warning item="69"><ID item="1">4836f60e-02de-11e0-bb2e-abe08f6f1f29</ID>
  <Reason item="1">Cluster TLS permissive - Cluster TLS verification mode permits invalid certificates</Reason>
  <State item="1">Unacknowledged</State></Warning></Warnings></Status>
)";

std::string error_of(std::string_view body, ErrorCode code = ErrorCode::kCorrupt) {
  auto r = parse_status(body);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == code);
  return r.error().message;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("xml: the reference's status.xml parses: product, version, uptime, alarm 40049",
          "[wire][xml]") {
  auto r = parse_status(kStatusXml);
  REQUIRE(r);
  CHECK(r->product_attribute == "TANDBERG VCS");
  CHECK(r->version_attribute == "X15.0.2");
  REQUIRE(r->system_unit);
  CHECK(*r->system_unit == SystemUnit{"TANDBERG VCS", "X15.0.2", 2492, ""});
  REQUIRE(r->warnings);
  REQUIRE(r->warnings->size() == 1);
  const Warning& w = r->warnings->front();
  CHECK(w.id == "4836f60e-02de-11e0-bb2e-abe08f6f1f29");
  CHECK(w.state == "Unacknowledged");
  CHECK(alarm_for_reason(w.reason) == 40049);
}

TEST_CASE("xml: getxml fragments, unknown and foreign elements, no namespace", "[wire][xml]") {
  // /getxml?location=/Status/Warnings: no SystemUnit; an empty list is no alarms.
  auto warnings = parse_status(
      R"(<Status xmlns="http://www.tandberg.no/XML/CUIL/1.0"><Warnings item="1"/></Status>)");
  REQUIRE(warnings);
  CHECK_FALSE(warnings->system_unit);
  REQUIRE(warnings->warnings);
  CHECK(warnings->warnings->empty());

  // Unknown elements are skipped; an element of another namespace with a
  // known name does not count; a document without a namespace is accepted.
  auto r = parse_status(R"(<Status xmlns:o="urn:other">
      <o:SystemUnit><o:Product>Fake</o:Product></o:SystemUnit>
      <Future item="1"><Thing>1</Thing></Future>
      <SystemUnit item="1"><Serial>123</Serial><Product>TANDBERG VCS</Product>
        <Uptime> 10 </Uptime><Software><Name>s42700x15</Name><Version>X14.3.1</Version></Software>
      </SystemUnit></Status>)");
  REQUIRE(r);
  REQUIRE(r->system_unit);
  CHECK(*r->system_unit == SystemUnit{"TANDBERG VCS", "X14.3.1", 10, ""});
  CHECK_FALSE(r->warnings);
}

TEST_CASE("xml: XPathError, HTML pages, non-XML and bad documents are refused clearly",
          "[wire][xml]") {
  CHECK(error_of(R"(<?xml version="1.0"?><Status xmlns="http://www.tandberg.no/XML/CUIL/1.0">)"
                 R"(<XPathError><Reason>No match on Path</Reason></XPathError></Status>)",
                 ErrorCode::kNotFound) ==
        "XML status: the node answered XPathError: No match on Path");
  CHECK(error_of("\n  <!DOCTYPE html>\n<html><body><form>Login</form></body></html>") ==
        "XML status reply is an HTML page (a login or proxy page?), not the XML document "
        "expected");
  CHECK(error_of("<html><head><title>Login</title></head></html>") ==
        "XML status reply is an HTML page (a login or proxy page?), not the XML document "
        "expected");
  CHECK(error_of(R"(<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" )"
                 R"("http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">)"
                 R"(<html xmlns="http://www.w3.org/1999/xhtml"><body>Login</body></html>)") ==
        "XML status reply is an HTML page (a login or proxy page?), not the XML document "
        "expected");
  CHECK(contains(error_of(R"({"Message": "Unauthorized"})"),
                 "XML status reply is not XML (line 1: "));
  CHECK(contains(error_of(""), "XML status reply is not XML"));
  CHECK(contains(error_of("<Status><SystemUnit>"), "is not XML"));
  CHECK(error_of(R"(<Configuration xmlns="http://www.tandberg.no/XML/CUIL/1.0"/>)") ==
        "XML status reply: expected root element <Status> (namespace "
        "http://www.tandberg.no/XML/CUIL/1.0), got <Configuration>");
  CHECK(contains(error_of(R"(<Status xmlns="urn:wrong"/>)"), "expected root element <Status>"));
  CHECK(error_of("<Status><SystemUnit><Product>P</Product><Software><Version>X</Version>"
                 "</Software></SystemUnit></Status>") == "XML SystemUnit has no <Uptime> element");
  CHECK(error_of("<Status><SystemUnit><Product>P</Product><Uptime>soon</Uptime></SystemUnit>"
                 "</Status>") == "XML <Uptime> is 'soon', expected a whole number");
  CHECK(error_of("<Status><SystemUnit><Product>P</Product><Uptime>-2492</Uptime></SystemUnit>"
                 "</Status>") == "XML <Uptime> is '-2492', expected a whole number");
  CHECK(error_of("<Status><Warnings><Warning><ID>1</ID><State>Acknowledged</State></Warning>"
                 "</Warnings></Status>") == "XML Warning has no <Reason> element");
  // Entities: a DTD is refused (no expansion, no external fetch).
  CHECK(
      error_of(R"(<?xml version="1.0"?><!DOCTYPE Status [<!ENTITY x SYSTEM "file:///etc/passwd">]>)"
               R"(<Status><SystemUnit><Product>&x;</Product></SystemUnit></Status>)") ==
      "XML status reply declares a DTD, which edgecert refuses");
  // Size cap.
  std::string big = "<Status>" + std::string(kMaxXmlBytes, ' ') + "</Status>";
  CHECK(contains(error_of(big), "over the 4194304 bytes edgecert reads"));
}

TEST_CASE("xml: alarm numbers from Reason texts, and back", "[wire][xml]") {
  CHECK(
      alarm_for_reason(
          "Cluster TLS permissive - Cluster TLS verification mode permits invalid certificates") ==
      40049);
  CHECK(alarm_for_reason("Server certificate validity - Server certificate expired") == 40068);
  CHECK(alarm_for_reason("Server certificate validity - Server certificate expires today") ==
        40068);
  CHECK(alarm_for_reason("Server certificate validity - Server certificate expires in 12 days") ==
        40069);
  CHECK(
      alarm_for_reason(
          " Security alert - No CRL distribution points have been defined for automatic updates") ==
      40001);
  CHECK(alarm_for_reason("Security alert - Automatic updating of CRL files has failed") == 40002);
  CHECK(alarm_for_reason("Security alert - Unable to download CRL update") == 40006);
  CHECK_FALSE(alarm_for_reason("Security alert - Something else"));
  CHECK_FALSE(
      alarm_for_reason("Server certificate validity - Server certificate expires in x days"));
  CHECK_FALSE(alarm_for_reason("Cluster TLS permissive"));
  CHECK_FALSE(alarm_for_reason(""));
  for (int alarm : {40049, 40068, 40069, 40001, 40002, 40006})
    CHECK(alarm_for_reason(*reason_for_alarm(alarm, 30)) == alarm);
  CHECK(*reason_for_alarm(40069, 30) ==
        "Server certificate validity - Server certificate expires in 30 days");
  auto unknown = reason_for_alarm(12345);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("xml: format_status writes what parse_status reads, escaped, namespaced", "[wire][xml]") {
  StatusDocument doc;
  doc.product_attribute = "TANDBERG VCS";
  doc.version_attribute = "X15.0.2";
  doc.system_unit = SystemUnit{"TANDBERG VCS", "X15.0.2", 2492, ""};
  doc.warnings = std::vector<Warning>{
      {"4836f60e-02de-11e0-bb2e-abe08f6f1f29", *reason_for_alarm(40049), "Unacknowledged"},
      {"id-2", "Odd <text> & \"quotes\"", "Acknowledged"}};
  std::string xml = format_status(doc);
  CHECK(xml.starts_with(R"(<?xml version="1.0" encoding="UTF-8"?>)"));
  CHECK(contains(xml, R"(<Status xmlns="http://www.tandberg.no/XML/CUIL/1.0")"));
  CHECK(contains(xml, R"(<Uptime item="1">2492</Uptime>)"));
  CHECK(contains(xml, R"(<Warning item="2">)"));
  CHECK(contains(xml, "Odd &lt;text&gt; &amp;"));
  auto back = parse_status(xml);
  REQUIRE(back);
  CHECK(*back == doc);

  StatusDocument empty;
  empty.warnings = std::vector<Warning>{};
  CHECK(*parse_status(format_status(empty)) == empty);

  auto xpath = parse_status(format_xpath_error("No match on Path /Status/Nothing"));
  REQUIRE_FALSE(xpath);
  CHECK(xpath.error().code == ErrorCode::kNotFound);
  CHECK(contains(xpath.error().message, "No match on Path /Status/Nothing"));
}

TEST_CASE("xml: alternatesconfiguration.xml: cluster name, primary, peers", "[wire][xml]") {
  auto r = parse_alternates(R"(<?xml version="1.0" encoding="UTF-8"?>
<Configuration xmlns="http://www.tandberg.no/XML/CUIL/1.0" product="TANDBERG VCS">
  <Alternates item="1">
    <Cluster item="1"><Name item="1">edge.example.com</Name></Cluster>
    <ConfigurationPrimary item="1">1</ConfigurationPrimary>
    <Peer item="2"><Address item="1">10.0.0.2</Address></Peer>
    <Peer item="1"><Address item="1">edge1.example.com</Address></Peer>
    <Peer item="3"><Address item="1"></Address></Peer>
    <Peer item="4"><Address item="1"/></Peer>
    <Unknown>x</Unknown>
  </Alternates>
</Configuration>)");
  REQUIRE(r);
  CHECK(r->cluster_name == "edge.example.com");
  CHECK(r->configuration_primary == 1);
  CHECK(r->peers == std::vector<Peer>{{1, "edge1.example.com"}, {2, "10.0.0.2"}});

  Alternates a{"c.example.com", 2, {{1, "a.example.com"}, {3, "c.example.com"}}};
  std::string xml = format_alternates(a);
  CHECK(contains(xml, R"(<Peer item="6">)"));
  CHECK(*parse_alternates(xml) == a);

  auto bad = [](std::string_view body) {
    auto e = parse_alternates(body);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == ErrorCode::kCorrupt);
    return e.error().message;
  };
  CHECK(bad("<Configuration><Alternates><ConfigurationPrimary>7</ConfigurationPrimary>"
            "</Alternates></Configuration>") == "XML <ConfigurationPrimary> is 7, expected 1 to 6");
  CHECK(bad(R"(<Configuration><Alternates><Peer item="9"><Address>x</Address></Peer>)"
            "</Alternates></Configuration>") == R"(XML <Peer item="9">: expected 1 to 6)");
  CHECK(bad("<Configuration/>") == "XML Configuration has no <Alternates> element");
  CHECK(bad("<Status/>").find("expected root element <Configuration>") != std::string::npos);
  CHECK(bad("<!DOCTYPE html><html></html>").find("is an HTML page") != std::string::npos);
}

TEST_CASE("xml: SystemUnit ProductType (Expressway-C/-E) both ways, optional", "[wire][xml]") {
  StatusDocument doc;
  doc.system_unit = SystemUnit{"TANDBERG VCS", "X15.0.2", 7, "Expressway-C"};
  std::string xml = format_status(doc);
  CHECK(contains(xml, R"(<ProductType item="1">Expressway-C</ProductType>)"));
  auto back = parse_status(xml);
  REQUIRE(back);
  CHECK(back->system_unit->product_type == "Expressway-C");
  CHECK(*back == doc);

  // The reference's X8.11 capture has no ProductType: parsed as "", and an
  // empty one is not written.
  auto capture = parse_status(kStatusXml);
  REQUIRE(capture);
  CHECK(capture->system_unit->product_type.empty());
  doc.system_unit->product_type.clear();
  CHECK_FALSE(contains(format_status(doc), "ProductType"));
}
