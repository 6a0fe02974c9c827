// send_one <bus dir> <from> <to> <payload>: one backpressured send, without CAF, built against
// an installed sluice; prints the message id. Exit codes as `sluice send`'s.
#include <cstdio>
#include <string>

#include "backpressure/send.hpp"
#include "inbox/inbox.hpp"
#include "runtime/exit_codes.hpp"

int main(int argc, char** argv) {
  using namespace sluice;
  if (argc != 5) {
    std::fprintf(stderr, "usage: send_one BUS_DIR FROM TO PAYLOAD\n");
    return runtime::exit_code::usage;
  }
  auto dest = inbox::inbox::open_or_create(argv[1], argv[3]);
  if (!dest) {
    std::fprintf(stderr, "send_one: %s\n", dest.err().message.c_str());
    return runtime::exit_code_for(dest.err().code);
  }
  const std::string payload = argv[4];
  const auto out = backpressure::send_with_backpressure(*dest, {argv[2], "task", payload});
  if (out.status != backpressure::send_status::sent) {
    const auto f = runtime::describe_send_failure(argv[2], argv[3], out, payload.size(),
                                                  dest->snapshot().max_payload);
    std::fprintf(stderr, "send_one: %s\n", f.message.c_str());
    return f.code;
  }
  std::printf("%llu\n", static_cast<unsigned long long>(out.receipt.id));
  return 0;
}
