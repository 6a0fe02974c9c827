#include "governance/send_gate.hpp"

#include <algorithm>

#include "governance/send_decision.hpp"

namespace sluice::governance {

send_gate::send_gate(std::filesystem::path dir) : dir_(std::move(dir)) {}

backpressure::admission_verdict send_gate::admit(const backpressure::admission_request& request,
                                                 std::int64_t now_ns) noexcept {
  try {
    if (!store_) {
      if (next_look_ns_ != 0 && now_ns < next_look_ns_) return {};
      next_look_ns_ = std::max<std::int64_t>(now_ns + recheck_ns, 1);
      auto opened = store::open(dir_);
      if (!opened) return {};  // no policy (or none this process may read): nothing to obey
      store_.emplace(std::move(opened.value()));
    }
    auto current = store_->current();
    // A policy file that fails its checks is not obeyed half-way: every send goes through,
    // and `sluice policy show` / `sluice doctor` say what is wrong.
    if (!current || current.value() == nullptr) return {};
    return decide_send(store_->raw(), *current.value(), request, now_ns);
  } catch (...) {
    return {};
  }
}

}  // namespace sluice::governance
