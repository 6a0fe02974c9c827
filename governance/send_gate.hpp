#pragma once
// governance's admission gate (backpressure/admission_gate.hpp): the policy in policy.ctl of
// one bus directory, obeyed by every send of the process that installs it. No policy file:
// every send is admitted, and each send looks for the file again (one failed open), so a
// policy applied later applies to the very next send. A new generation is decoded once per
// process; between applies a send costs one atomic load plus its rules' CAS.
#include <filesystem>
#include <optional>

#include "backpressure/admission_gate.hpp"
#include "governance/store.hpp"

namespace sluice::governance {

class send_gate final : public backpressure::admission_gate {
 public:
  explicit send_gate(std::filesystem::path dir);
  backpressure::admission_verdict admit(const backpressure::admission_request& request,
                                        std::int64_t now_ns) noexcept override;

 private:
  std::filesystem::path dir_;
  std::optional<store> store_;
};

}  // namespace sluice::governance
