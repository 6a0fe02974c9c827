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
  // --help (and -h, help) is an answer, on stdout, exit 0; anything else is a usage error.
  const bool asked =
      argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
                    std::strcmp(argv[1], "help") == 0);
  std::FILE* out = asked ? stdout : stderr;
  if (!asked && argc >= 2) std::fprintf(stderr, "sluice-bench: unknown verb '%s'\n", argv[1]);
  std::fprintf(out, "usage: sluice-bench <verb> [options]   (sluice-bench <verb> --help)\n");
  for (const auto& v : verbs()) std::fprintf(out, "  %-12s %s\n", v.name, v.help);
  return asked ? 0 : 64;
}
