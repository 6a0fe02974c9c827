#pragma once
// How often a thread that never blocks still loses its CPU (timer ticks, interrupts, the
// hypervisor), and for how long, measured in the same run as the transports so the table can
// be read against the machine. Context, not a bound: a 2 s probe before the runs need not
// see what the runs see (a run's p99 has been lower than its gaps suggested).
#include <chrono>

namespace sluice::bench {

struct machine_jitter {
  double gaps_over_5us_per_s = 0;  // per spinning thread
  double windows_hit_pct = 0;      // share of 50 us windows (the latency probe's spacing)
                                   // that hold a gap > 5 us, per spinning thread
  double max_gap_us = 0;
  double lost_pct = 0;  // time lost in gaps > 1 us
};

// Spins `threads` threads for `duration`, reading CLOCK_MONOTONIC in a tight loop; a step
// between two reads longer than 1 us is time the thread did not run.
machine_jitter measure_machine_jitter(std::chrono::milliseconds duration, unsigned threads);

}  // namespace sluice::bench
