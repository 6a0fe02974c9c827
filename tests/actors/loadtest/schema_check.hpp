#pragma once
// Checks a result.json document against docs/loadtest-result.schema.json with Python's
// jsonschema (Debian python3-jsonschema, installed by scripts/setup.sh --with-tests): the
// schema file is the documented contract, so the test reads that file, not a copy of it.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/find_program.hpp"
#include "support/process.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

namespace sluice::test {

inline std::filesystem::path result_schema_path() {
  return std::filesystem::path{SLUICE_SOURCE_DIR} / "docs" / "loadtest-result.schema.json";
}

// PATH and HOME as the test has them, so a python3 found through a version manager runs.
inline env_map python_env() {
  env_map env;
  for (const char* name : {"PATH", "HOME"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  return env;
}

// Empty when the document matches the schema, else the validator's message.
inline std::string schema_violations(const nlohmann::json& doc) {
  const std::string python = find_program("python3");
  if (python.empty()) SLUICE_SKIP("python3 is not installed (scripts/setup.sh --with-tests)");
  if (process{{{python, "-c", "import jsonschema"}, python_env()}}.finish().exit_code != 0) {
    SLUICE_SKIP("python3-jsonschema is not installed (scripts/setup.sh --with-tests)");
  }
  temp_dir dir;
  const auto file = dir.path() / "result.json";
  std::ofstream(file) << doc.dump(2);
  const char* check =
      "import json, sys, jsonschema\n"
      "schema = json.load(open(sys.argv[1]))\n"
      "jsonschema.Draft202012Validator.check_schema(schema)\n"
      "errors = "
      "sorted(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))), "
      "key=str)\n"
      "for e in errors: print('/'.join(map(str, e.absolute_path)) + ': ' + e.message)\n";
  const auto r = process{
      {{python, "-c", check, result_schema_path().string(), file.string()},
       python_env()}}.finish();
  if (r.exit_code != 0) return "validator failed: " + r.err;
  return r.out;
}

}  // namespace sluice::test
