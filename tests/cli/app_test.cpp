// make_app builds only the verbs defined with argv[1] (start-up: CLI11 set-up of every verb
// is two thirds of a one-shot call). These tests keep its verb table and the real verbs in
// step: a verb missing from the table would still work, but build everything again.
#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "runtime/cli/verb.hpp"

using namespace sluice::cli;

namespace {

std::vector<std::string> verb_names(CLI::App& app) {
  std::vector<std::string> names;
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
    for (const auto& alias : sub->get_aliases()) names.push_back(alias);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("the verb table of make_app names every verb and alias of sluice") {
  cli_state state;
  const auto full = make_app(state);
  std::vector<std::string> table;
  for (auto v : grouped_verbs()) table.emplace_back(v);
  std::sort(table.begin(), table.end());
  CHECK(verb_names(*full) == table);
}

TEST_CASE("a verb named first is built with the verbs of its own file only") {
  cli_state full_state;
  const auto full_count = verb_names(*make_app(full_state)).size();
  for (auto verb : grouped_verbs()) {
    INFO(std::string(verb));
    cli_state state;
    const auto app = make_app(state, verb);
    CHECK_NOTHROW(app->get_subcommand(std::string(verb)));
    CHECK(verb_names(*app).size() < full_count);
  }
}

TEST_CASE("anything but a verb first builds every verb, so help and errors see them all") {
  cli_state full_state;
  const auto all = verb_names(*make_app(full_state));
  for (const char* first : {"--help", "--bus", "no-such-verb", ""}) {
    INFO(first);
    cli_state state;
    CHECK(verb_names(*make_app(state, first)) == all);
  }
}

TEST_CASE("a lean command line parses its verb into an action as the full one does") {
  cli_state state;
  const auto app = make_app(state, "count");
  std::vector<std::string> args = {"sluice", "count", "alpha", "--bus", "b"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app->parse(static_cast<int>(argv.size()), argv.data());
  CHECK(static_cast<bool>(state.action));
  CHECK(state.globals.bus == "b");
}
