// `edgecert validate SPEC...`: decode and validate specs without touching nodes.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "reconciler/cli/cli.h"
#include "schema/loader.h"

namespace edgecert {

std::function<int()> setup_validate(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::vector<std::string> specs;
    std::string output = "text";
    bool strict = false;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("SPEC", o->specs, "Spec files to check")->required();
  app.add_option("--output,-o", o->output, "Output format")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--strict", o->strict, "Treat warnings as errors");

  return [o, &ctx]() -> int {
    Diagnostics all;
    for (const std::string& path : o->specs) {
      schema::LoadResult r = schema::load_spec_file(path, ctx.env);
      all.append(r.diagnostics);
    }
    bool valid = !all.has_errors() && !(o->strict && all.warning_count() > 0);
    std::vector<Diagnostic> sorted = all.sorted();
    if (o->output == "json") {
      nlohmann::json j;
      j["valid"] = valid;
      j["diagnostics"] = nlohmann::json::array();
      for (const Diagnostic& d : sorted) j["diagnostics"].push_back(diagnostic_to_json(d));
      // Shown only: a path from the command line may hold any bytes.
      ctx.out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      for (const Diagnostic& d : sorted) ctx.err << d.to_string() << "\n";
      if (valid) {
        for (const std::string& path : o->specs) ctx.out << path << ": valid\n";
      }
    }
    return valid ? kExitOk : kExitError;
  };
}

}  // namespace edgecert
