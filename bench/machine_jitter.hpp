#pragma once
// How often a thread that never blocks still loses its CPU (timer ticks, interrupts, the
// hypervisor), and for how long: the floor under any transport's tail latency on this
// machine, measured in the same run as the transports so the table can be read against it.
#include <chrono>

namespace sluice::bench {

struct machine_jitter {
  double gaps_over_5us_per_s = 0;  // per spinning thread
  double windows_hit_pct = 0;      // share of 50 us windows (the latency probe's spacing)
                                   // that hold a gap > 5 us, per spinning thread
  double max_gap_us = 0;
  double lost_pct = 0;  // time lost in gaps > 1 us
  // Share of time at which a message arriving would find the spinning thread still off its
  // CPU for more than 5 us: sum over gaps of (gap - 5 us). When this passes 1 %, no
  // transport's p99 one-way latency can stay under 5 us, whatever it does.
  double late_over_5us_pct = 0;
};

// Spins `threads` threads for `duration`, reading CLOCK_MONOTONIC in a tight loop; a step
// between two reads longer than 1 us is time the thread did not run.
machine_jitter measure_machine_jitter(std::chrono::milliseconds duration, unsigned threads);

}  // namespace sluice::bench
