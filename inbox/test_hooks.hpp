#pragma once
// Test-only hooks. They exist only in the sluice_inbox_test_hooks library (built with
// SLUICE_INBOX_TEST_HOOKS for the crash tests); the production library has no trace of them.
#ifdef SLUICE_INBOX_TEST_HOOKS
namespace sluice::inbox::test_hooks {

// Called by a producer after it claimed and stamped a slot, before it writes the message,
// so a test can SIGKILL a process at exactly that point.
extern void (*after_claim)();

}  // namespace sluice::inbox::test_hooks
#endif
