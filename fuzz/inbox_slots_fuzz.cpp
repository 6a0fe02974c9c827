// A valid inbox whose shared state (everything after the identity: indexes, counters, slot
// control words, lengths, payloads) is overwritten with arbitrary bytes, as a hostile or
// crashed process could leave it. Readers, the consumer, producers and the doctor must detect
// lies and stay inside the mapping; nothing may hang (libFuzzer's -timeout catches that).
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.hpp"
#include "inbox/doctor/doctor.hpp"
#include "inbox/inbox.hpp"

namespace {

// capacity 2 (ring 2), critical reserve 1, slot 256: 4096 + (3 * 2 + 1) * 256 bytes.
constexpr std::size_t identity_size = 56;
constexpr std::size_t file_size = 4096 + 7 * 256;

std::vector<std::uint8_t> pristine(const std::filesystem::path& dir) {
  using namespace sluice::inbox;
  auto in = inbox::open_or_create(dir, "template", create_options{2, 1, 256, 0600});
  if (!in) __builtin_trap();
  std::vector<std::uint8_t> bytes(file_size);
  const int fd = ::open(in->path().c_str(), O_RDONLY);
  if (fd < 0 || ::pread(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    __builtin_trap();
  ::close(fd);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice::inbox;
  const auto dir = sluice::fuzz::scratch_dir() / "slots";
  static const std::vector<std::uint8_t> base = [&] {
    std::filesystem::create_directories(dir);
    return pristine(dir);
  }();
  // The fuzz input replaces the shared part from offset 56 on; the rest stays as created.
  std::vector<std::uint8_t> bytes = base;
  std::memcpy(bytes.data() + identity_size, data, std::min(size, bytes.size() - identity_size));
  if (!sluice::fuzz::write_file(dir / "f.inbox", bytes.data(), bytes.size())) return 0;
  auto in = inbox::open(dir, "f");
  if (!in) __builtin_trap();  // the identity is intact: open must succeed
  (void)in->snapshot();
  (void)in->size();
  (void)in->full();
  (void)in->peek(16);
  (void)diagnose(dir, "f");
  if (auto c = in->attach_consumer(consumer_options{std::chrono::nanoseconds(0)})) {
    for (int round = 0; round < 3; ++round) {
      for (const auto& m : c->pop_batch(16)) {
        // Touch every byte the views claim to cover: ASan flags any that lie outside.
        volatile char sink = 0;
        for (char ch : m.payload) sink = sink ^ ch;
        for (char ch : m.from) sink = sink ^ ch;
        for (char ch : m.type) sink = sink ^ ch;
        (void)sink;
      }
      c->commit();
    }
  }
  for (auto p : {priority::low, priority::normal, priority::high, priority::critical}) {
    (void)in->try_push(message_view{"fuzz", "t", "payload", p});
  }
  const message_view batch[3] = {{"fuzz", "t", "a", priority::normal},
                                 {"fuzz", "t", "b", priority::normal},
                                 {"fuzz", "t", "c", priority::high}};
  (void)in->try_push_batch(batch, 3);
  (void)repair(dir, "f", std::chrono::milliseconds(0));
  return 0;
}
