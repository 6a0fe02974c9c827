#pragma once
// Test-only hooks. They exist only in the sluice_inbox_test_hooks library (built with
// SLUICE_INBOX_TEST_HOOKS for the crash tests); the production library has no trace of them.
#ifdef SLUICE_INBOX_TEST_HOOKS
namespace sluice::inbox::test_hooks {

// Called by a producer after it claimed and stamped a slot, before it writes the message,
// so a test can SIGKILL a process at exactly that point.
extern void (*after_claim)();
// Called by a producer right after it took its admission ticket (claims), before it decides
// whether the ticket fits, so a test can interleave other producers at exactly that point.
extern void (*after_ticket)();
// Called by a producer after it took a regular admission, before it claims a position.
extern void (*after_admission)();
// Called by a consumer inside commit, after the ledger store and before the slots are freed.
extern void (*inside_commit)();
// Called by attach_consumer once the consumer lock's descriptor is open, before it takes the
// lock, so a test can fork at exactly that point.
extern void (*before_consumer_lock)();

}  // namespace sluice::inbox::test_hooks
#endif
