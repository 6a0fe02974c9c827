#pragma once
// The inbox a test works on: `agent` in a fresh test bus, created with `opts`.
#include <catch2/catch.hpp>
#include <string_view>
#include <utility>

#include "inbox/inbox.hpp"
#include "support/temp_dir.hpp"

namespace sluice::inbox::testing {

inline inbox make_inbox(const sluice::test::temp_bus& bus, const create_options& opts = {},
                        std::string_view agent = "a") {
  auto r = inbox::open_or_create(bus.dir(), agent, opts);
  REQUIRE(r);
  return std::move(r).value();
}

// A small inbox: 16 regular slots.
inline inbox make_small_inbox(const sluice::test::temp_bus& bus) {
  create_options opts;
  opts.capacity = 16;
  return make_inbox(bus, opts);
}

}  // namespace sluice::inbox::testing
