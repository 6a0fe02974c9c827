// A two-stage pipeline in one binary, one role per agent (see pipeline.toml):
//   pipeline source N   (job)  sends 1..N to `square`, waits for `sum`'s total, checks it
//   pipeline square            n -> n*n, forwarded to `sum`
//   pipeline sum N             adds N distinct squares, then sends the total to `source`
// Delivery is at-least-once, so `sum` keeps the set of inputs it has added: a redelivered
// message is not added twice.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "actors/agent/agent.hpp"

namespace {
using namespace sluice;

std::uint64_t arg(int argc, char** argv, int i) {
  return argc > i ? std::strtoull(argv[i], nullptr, 10) : 0;
}

int source(std::uint64_t n) {
  std::uint64_t next = 1;
  actors::agent_handlers h;
  h.on_idle = [&](actors::agent& self) {
    // A chunk per turn: backpressure (waits on square's full inbox) paces this loop.
    for (int i = 0; i < 256 && next <= n; ++i, ++next)
      if (self.send("square", "number", std::to_string(next)) != backpressure::send_status::sent)
        return self.stop(1);
  };
  h.on_message = [&](actors::agent& self, const inbox::received_message& m) {
    if (m.type != "total") return;
    std::uint64_t expected = 0;
    for (std::uint64_t i = 1; i <= n; ++i) expected += i * i;
    const auto total = std::strtoull(std::string(m.payload).c_str(), nullptr, 10);
    std::printf("sum of squares 1..%llu = %llu (%s), %llu backpressure waits\n",
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(total),
                total == expected ? "correct" : "WRONG",
                static_cast<unsigned long long>(self.stats().backpressure_waits));
    std::fflush(stdout);
    self.stop(total == expected ? 0 : 1);
  };
  return actors::run_agent(std::move(h));
}

int square() {
  actors::agent_handlers h;
  h.on_message = [](actors::agent& self, const inbox::received_message& m) {
    const auto x = std::strtoull(std::string(m.payload).c_str(), nullptr, 10);
    self.send("sum", "square", std::to_string(x) + " " + std::to_string(x * x));
  };
  return actors::run_agent(std::move(h));
}

int sum(std::uint64_t n) {
  std::vector<bool> added(n + 1, false);
  std::uint64_t count = 0;
  std::uint64_t total = 0;
  actors::agent_handlers h;
  h.on_message = [&](actors::agent& self, const inbox::received_message& m) {
    char* rest = nullptr;
    const std::string text(m.payload);
    const auto x = std::strtoull(text.c_str(), &rest, 10);
    if (x == 0 || x > n || added[x]) return;  // out of range, or a redelivery
    added[x] = true;
    total += std::strtoull(rest, nullptr, 10);
    if (++count == n) self.send("source", "total", std::to_string(total));
  };
  return actors::run_agent(std::move(h));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  if (role == "source" && arg(argc, argv, 2) > 0) return source(arg(argc, argv, 2));
  if (role == "square") return square();
  if (role == "sum" && arg(argc, argv, 2) > 0) return sum(arg(argc, argv, 2));
  std::fprintf(stderr, "usage: pipeline source N | pipeline square | pipeline sum N\n");
  return 64;
}
