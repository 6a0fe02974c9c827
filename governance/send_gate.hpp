#pragma once
// governance's admission gate (backpressure/admission_gate.hpp): the policy in policy.ctl of
// one bus directory, obeyed by every send of the process that installs it. Once the file is
// mapped, every new version applies to the very next send (one atomic load per send; a new
// generation is decoded once per process). Without the file every send is admitted, and the
// gate looks for it again at most every recheck_ns (a failed open costs microseconds, too
// much for every send), so a process that started before the first `policy apply` obeys it
// within that time.
#include <filesystem>
#include <optional>

#include "backpressure/admission_gate.hpp"
#include "governance/store.hpp"

namespace sluice::governance {

class send_gate final : public backpressure::admission_gate {
 public:
  static constexpr std::int64_t recheck_ns = 100'000'000;
  explicit send_gate(std::filesystem::path dir);
  backpressure::admission_verdict admit(const backpressure::admission_request& request,
                                        std::int64_t now_ns) noexcept override;

 private:
  std::filesystem::path dir_;
  std::optional<store> store_;
  std::int64_t next_look_ns_ = 0;  // CLOCK_MONOTONIC; 0: look at the first send
};

}  // namespace sluice::governance
