// The workload of bench/instructions/run.sh: push N messages (every 8th critical) in bursts of
// 100 and drain them in batches of 64, in one process, deterministic for callgrind.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "inbox/inbox.hpp"
using namespace sluice::inbox;
int main(int argc, char** argv) {
  const long n = std::atol(argv[1]);
  char tmpl[] = "/dev/shm/instr-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  auto box = inbox::open_or_create(dir + "/bus", "w");
  if (!box) return 2;
  auto cons = box->attach_consumer();
  if (!cons) return 3;
  const std::string payload(256, 'x');
  std::vector<received_message> out(64);
  long sent = 0, got = 0;
  while (got < n) {
    for (int i = 0; i < 100 && sent < n; ++i, ++sent) {
      message_view m{"sender", "task", payload,
                     (sent % 8 == 0) ? priority::critical : priority::normal};
      if (box->try_push(m) != push_result::ok) return 4;
    }
    for (;;) {
      const std::size_t k = cons->pop_batch(out.data(), out.size());
      if (k == 0) break;
      got += static_cast<long>(k);
      cons->commit();
    }
  }
  std::string cmd = "rm -rf " + dir;
  return std::system(cmd.c_str()) == 0 && got == n ? 0 : 5;
}
