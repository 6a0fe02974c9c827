// `sluice-bench governance [--json]`: what the bus policy costs (docs/architecture.md,
// governance). Targets: a policy of 16 rules adds at most 100 ns to a send; an uncontended
// C++ acquire (+ release) costs at most 200 ns. Each figure is the median of rounds.
//   gate, 16 rules, 1 matching:  send_gate::admit, 15 rules whose globs miss + one limit
//   gate, 16 rules, 16 matching: every rule takes from its limiter (16 CAS)
//   gate, no policy file:        what every send pays on a bus without policy.ctl
//   acquire + release:           try_acquire of a limit with a rate and 4 leases, then release
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench.hpp"
#include "governance/acquire.hpp"
#include "governance/clock.hpp"
#include "governance/holder.hpp"
#include "governance/policy_file.hpp"
#include "governance/send_gate.hpp"
#include "governance/store.hpp"

namespace sluice::bench {
namespace {

namespace gov = sluice::governance;
constexpr int batch = 1000;

class scratch_dir {
 public:
  scratch_dir() {
    std::string tmpl = "/dev/shm/sluice-governance-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp in /dev/shm failed");
    dir_ = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

gov::store apply_policy(const std::filesystem::path& dir, const std::string& text) {
  auto p = gov::parse_policy(text, "bench.toml");
  if (!p.value) throw std::runtime_error(p.errors.front());
  auto s = gov::store::open_or_create(dir);
  if (!s) throw std::runtime_error(s.err().message);
  if (!s.value().apply(*p.value, "bench.toml")) throw std::runtime_error("apply failed");
  return std::move(s.value());
}

template <class F>
double median_ns(int rounds, F&& f) {
  std::vector<double> v;
  for (int r = 0; r < rounds; ++r) {
    const std::int64_t t0 = gov::monotonic_ns();
    for (int i = 0; i < batch; ++i) f();
    v.push_back(static_cast<double>(gov::monotonic_ns() - t0) / batch);
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string sixteen_rules(bool all_match) {
  std::string text;
  for (int i = 0; i < 16; ++i) {
    text += "[[rule]]\nname = \"r" + std::to_string(i) + "\"\n";
    text += all_match || i == 15 ? "from = \"worker-*\"\n" : "from = \"other-" + std::to_string(i) + "-*\"\n";
    text += "to = \"coordinator\"\naction = \"limit\"\nrate = \"1000000000/s\"\nburst = 1000000\n\n";
  }
  return text;
}

int run_governance(int argc, char** argv) {
  CLI::App app{"Governance cost: policy per send, uncontended acquire", "sluice-bench governance"};
  bool json = false;
  int rounds = 200;
  app.add_flag("--json", json, "print one JSON object instead of the table");
  app.add_option("--rounds", rounds, "rounds of 1000 calls each")->check(CLI::Range(3, 100000));
  CLI11_PARSE(app, argc, argv);

  const backpressure::admission_request q{"worker-3", "coordinator", "task", inbox::priority::normal};
  double one_match = 0, all_match = 0, no_policy = 0, acquire = 0;
  {
    scratch_dir d;
    auto s = apply_policy(d.dir(), sixteen_rules(false));
    gov::send_gate gate(d.dir());
    one_match = median_ns(rounds, [&] { (void)gate.admit(q, gov::monotonic_ns()); });
  }
  {
    scratch_dir d;
    auto s = apply_policy(d.dir(), sixteen_rules(true));
    gov::send_gate gate(d.dir());
    all_match = median_ns(rounds, [&] { (void)gate.admit(q, gov::monotonic_ns()); });
  }
  {
    scratch_dir d;
    gov::send_gate gate(d.dir());
    no_policy = median_ns(rounds, [&] { (void)gate.admit(q, gov::monotonic_ns()); });
  }
  {
    scratch_dir d;
    auto s = apply_policy(d.dir(), "[[limit]]\nname = \"llm\"\nrate = \"1000000000/s\"\nburst = 1000000\nconcurrency = 4\n");
    const auto* p = s.current().value();
    gov::acquire_request r{"llm", 1, "bench", *gov::holder_word(::getpid())};
    acquire = median_ns(rounds, [&] {
      auto a = gov::try_acquire(s.raw(), *p, r, gov::monotonic_ns(), gov::realtime_ns());
      gov::release_lease(s.raw(), *p, a.lease);
    });
  }
  if (json) {
    std::cout << nlohmann::json{{"gate_16_rules_1_match_ns", one_match},
                                {"gate_16_rules_16_match_ns", all_match},
                                {"gate_no_policy_ns", no_policy},
                                {"acquire_release_ns", acquire}}.dump(2)
              << "\n";
    return 0;
  }
  std::printf("policy per send (send_gate::admit, median of %d rounds x %d):\n", rounds, batch);
  std::printf("  16 rules, 1 matching      %8.1f ns   (target <= 100)\n", one_match);
  std::printf("  16 rules, 16 matching     %8.1f ns\n", all_match);
  std::printf("  no policy file            %8.1f ns\n", no_policy);
  std::printf("uncontended acquire + release (rate + 4 leases):\n");
  std::printf("  try_acquire + release     %8.1f ns   (target <= 200)\n", acquire);
  return 0;
}

const verb_registration reg{"governance", "policy cost per send and uncontended acquire",
                            run_governance};

}  // namespace
}  // namespace sluice::bench
