// Arbitrary bytes as an inbox file: open must refuse them with a reason (bad magic, version,
// size, corrupt geometry) or, if they pass, every reader must stay inside the mapping.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "inbox/doctor/doctor.hpp"
#include "inbox/inbox.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::inbox;
  const auto dir = sluice::fuzz::scratch_dir() / "open";
  static const bool made = std::filesystem::create_directories(dir) || true;
  (void)made;
  if (!sluice::fuzz::write_file(dir / "f.inbox", data, size)) return 0;
  auto in = inbox::open(dir, "f");
  if (!in) {
    if (in.err().message.empty()) __builtin_trap();  // every refusal must say why
    return 0;
  }
  (void)in->snapshot();
  (void)in->peek(64);
  (void)diagnose(dir, "f");
  return 0;
}
