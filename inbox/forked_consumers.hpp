#pragma once
// The consumers this process holds, so that a child it forks without exec lets go of them.
//
// The consumer lock is an flock, which belongs to the open file description, and fork shares
// that description: a child that lives on (a Python multiprocessing worker, a forked C++
// helper) would keep an inbox's consumer lock after its parent let go, and nobody could
// attach until the child ended. In a child, each registered consumer closes its copy of the
// lock's descriptor (the parent keeps the lock) and stops being a consumer there:
// consumer::held() turns false, and it reads, commits and arms nothing.
#include "inbox/impl.hpp"

namespace sluice::inbox::detail {

struct forked_consumers {
  // Opens the consumer lock's descriptor for s (s->lock_fd) and registers s, both while no
  // fork can happen: a child forked in between would keep a copy nobody closes, and the lock
  // taken on it next would stay held through the child. Returns the descriptor, or -1 with
  // errno set and s not registered.
  static int open_lock(consumer::state* s, const std::filesystem::path& path);
  static void remove(consumer::state* s) noexcept;

 private:
  struct registry;
  static registry& the_registry() noexcept;
  static void before_fork() noexcept;
  static void after_fork_in_parent() noexcept;
  static void after_fork_in_child() noexcept;
};

}  // namespace sluice::inbox::detail
