#include "bindings/permit.hpp"

#include "bindings/errors.hpp"

namespace sluice::bindings {

namespace {

constexpr std::chrono::seconds default_wait{5};  // as `sluice acquire --wait`

// The one-line messages `sluice acquire` prints for the same outcomes.
[[noreturn]] void refuse(const std::string& key, const governance::acquire_result& r) {
  switch (r.status) {
    case governance::acquire_status::wait: {
      error e(error_kind::backpressure,
              key + ": " + r.reason + "; retry in " +
                  std::to_string((r.retry_after_ns + 999'999) / 1'000'000) + " ms");
      e.retry_after = std::chrono::nanoseconds(r.retry_after_ns);
      throw e;
    }
    case governance::acquire_status::unknown:
      throw error(error_kind::not_found, r.reason + " (sluice policy show)");
    default:
      throw error(error_kind::unavailable, key + " refused: " + r.reason);
  }
}

}  // namespace

permit::permit(std::unique_ptr<governance::governor> gov, std::string key)
    : gov_(std::move(gov)), key_(std::move(key)) {}

permit::~permit() {
  release();
}

std::shared_ptr<permit> permit::acquire(const std::filesystem::path& bus_dir,
                                        const std::string& key, const acquire_options& opts,
                                        waiter& w) {
  auto gov = governance::governor::open(bus_dir);
  if (!gov) {
    if (gov.err().code == inbox::errc::not_found)
      throw error(error_kind::not_found,
                  "no policy in force on this bus: sluice policy apply FILE");
    throw error(error_kind::internal, gov.err().message);
  }
  std::shared_ptr<permit> p(
      new permit(std::make_unique<governance::governor>(std::move(gov.value())), key));
  auto pause = [&w](const std::function<void()>& sleep) {
    w.block(sleep);
    return w.keep_waiting();
  };
  auto l = p->gov_->acquire(key, opts.cost, opts.timeout.value_or(default_wait), opts.agent, pause);
  if (l.interrupted()) throw interrupted{};
  if (!l) refuse(key, l.result());
  p->granted_ = l.result();
  p->lease_.emplace(std::move(l));
  return p;
}

const std::string& permit::lease() const noexcept {
  return granted_.lease;
}
std::uint64_t permit::limit() const noexcept {
  return granted_.limit;
}
std::uint64_t permit::remaining() const noexcept {
  return granted_.remaining;
}
bool permit::soft_quota_exceeded() const noexcept {
  return granted_.soft_quota_exceeded;
}

void permit::release() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (released_) return;
  released_ = true;
  if (lease_) lease_->release();
}

bool permit::released() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return released_;
}

}  // namespace sluice::bindings
