// sluice-bench <verb> [options]: dispatches to the verbs registered by the bench files.
#include <cstdio>
#include <cstring>

#include "bench/bench.hpp"

int main(int argc, char** argv) {
  using sluice::bench::verbs;
  if (argc >= 2) {
    for (const auto& v : verbs()) {
      if (std::strcmp(argv[1], v.name) == 0) return v.fn(argc - 1, argv + 1);
    }
  }
  std::fprintf(stderr, "usage: sluice-bench <verb> [options]\n");
  for (const auto& v : verbs()) std::fprintf(stderr, "  %-12s %s\n", v.name, v.help);
  return 64;
}
