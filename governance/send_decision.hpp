#pragma once
// Deciding one send against the policy in force (docs/architecture.md, governance): every rule
// on sends whose globs and lanes match applies, in file order. A deny rule refuses at once; a
// limit rule without room answers `wait` (retry_after: when it will have room); a demote rule
// lowers the lane (always, or only past its rate when it has one); a log rule only counts what
// its limiter would have refused. The first refusal decides, and the units earlier rules of
// the same decision took are given back, so a refused send costs no rule anything.
#include <cstdint>

#include "backpressure/admission_gate.hpp"
#include "governance/compiled.hpp"
#include "governance/store_layout.hpp"

namespace sluice::governance {

backpressure::admission_verdict decide_send(layout::file& state, const compiled_policy& policy,
                                            const backpressure::admission_request& request,
                                            std::int64_t now_ns) noexcept;

// The limiter word of a rule for this request: the rule's own (per = rule) or a keyed cell
// (per = from / to / pair), claimed on first use. Falls back to the rule's word, shared and
// so stricter, when the cell table is full.
std::atomic<std::uint64_t>& rule_word(layout::file& state, const compiled_rule& rule,
                                      std::string_view from, std::string_view to) noexcept;

// A keyed cell's word (check-rate, per-sender rules); nullptr when the table is full.
std::atomic<std::uint64_t>* cell_word(layout::file& state, std::uint64_t key) noexcept;

// Writes `who` into a NUL-padded name of 8 words (last denial, ledger names).
void store_name(std::atomic<std::uint64_t> (&words)[layout::name_bytes / 8],
                std::string_view who) noexcept;
std::string load_name(const std::atomic<std::uint64_t> (&words)[layout::name_bytes / 8]);

}  // namespace sluice::governance
