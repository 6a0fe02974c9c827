#!/usr/bin/env bash
# How long README command 1 (scripts/demo.sh) takes on a fresh Debian 12 machine, from nothing
# installed to the end of the demo (issue 20 point 6; the aim is under 3 minutes on 2 cores).
# A fresh machine is simulated by a minimal Debian 12 chroot (debootstrap --variant=minbase, which
# has less than a cloud image: no ca-certificates, curl, gpg, git); a clean clone of the source
# repository's HEAD goes into it (no build directory, no ccache: the host's is not mounted), and
# scripts/demo.sh runs there as root, exactly as the README says, timed.
# It prints the breakdown: the package installs (scripts/setup.sh), the cmake configure, the build
# (wall time, CPU time of ninja's children, the slowest files and the time per target from
# build/.ninja_log, the critical path) and the demo run, with the load averages, since on a shared
# machine other processes inflate the wall time but hardly the CPU time.
#
# Usage (as root; needs debootstrap and the Debian mirror):
#   bench/fresh_demo.sh CHROOT_DIR [SOURCE_REPO] [MIRROR]
# CHROOT_DIR is created with debootstrap when it holds no Debian system yet; when it does, it is
# reused as it is (packages installed by an earlier run stay: that times the build and the demo
# alone). SOURCE_REPO defaults to the repository this script is in, MIRROR to deb.debian.org.
# Logs go to CHROOT_DIR/root/fresh_demo.*; /proc, /sys, /dev, /dev/pts and a tmpfs /dev/shm are
# mounted into the chroot for the run and unmounted on exit.
set -euo pipefail
dir=$(realpath -m "${1:?usage: bench/fresh_demo.sh CHROOT_DIR [SOURCE_REPO] [MIRROR]}")
src=${2:-$(cd "$(dirname "$0")/.." && pwd)}
mirror=${3:-http://deb.debian.org/debian}
[[ $(id -u) -eq 0 ]] || { echo "fresh_demo: run as root (debootstrap, chroot, mount)" >&2; exit 1; }
[[ $dir != / ]] || { echo "fresh_demo: CHROOT_DIR must not be /" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "fresh_demo: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }

if [[ ! -e $dir/etc/debian_version ]]; then
  echo "fresh_demo: debootstrap --variant=minbase bookworm $dir $mirror" >&2
  debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 ||
    { tail -20 "$dir.debootstrap.log" >&2; exit 1; }
  # The suites a Debian 12 install has enabled.
  cat >"$dir/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
EOF
  reused=no
else
  echo "fresh_demo: reusing the Debian system in $dir (what an earlier run installed stays)" >&2
  reused=yes
fi
cp /etc/resolv.conf "$dir/etc/resolv.conf"

mounted=()
poller=
cleanup() {
  [[ -n $poller ]] && kill "$poller" 2>/dev/null || true
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || echo "fresh_demo: could not unmount ${mounted[i]}" >&2
  done
}
trap cleanup EXIT
mnt() { # mnt TARGET mount-args...: mounts, keeps the mount private (no propagation to the host)
  local target=$1; shift
  mountpoint -q "$target" && { echo "fresh_demo: $target is already a mount point" >&2; exit 1; }
  mount "$@" "$target"
  mounted+=("$target")
  mount --make-private "$target"
}
mnt "$dir/proc" -t proc proc
mnt "$dir/sys" --bind /sys
mnt "$dir/dev" --bind /dev
mnt "$dir/dev/pts" --bind /dev/pts
mnt "$dir/dev/shm" -t tmpfs -o mode=1777 tmpfs

rm -rf "$dir/root/sluice"
git clone -q "$src" "$dir/root/sluice"
commit=$(git -C "$dir/root/sluice" rev-parse HEAD)
[[ ! -e $dir/root/sluice/build ]] || { echo "fresh_demo: the clone has a build directory" >&2; exit 1; }

log=$dir/root/fresh_demo.log
events=$dir/root/fresh_demo.events
: >"$events"
# Every second: the load average, and the CPU time ninja and its finished children have used so
# far (ninja's, in the chroot: other builds may run on the host).
(
  while :; do
    now=$(date +%s.%N)
    for p in $(pgrep -x ninja); do
      [[ $(readlink "/proc/$p/root" 2>/dev/null) == "$dir" ]] || continue
      # fields 14-17: utime stime cutime cstime (ninja's comm has no spaces)
      read -ra st <"/proc/$p/stat" 2>/dev/null || continue
      echo "$now ninja_cpu_ticks $((st[13] + st[14] + st[15] + st[16]))" >>"$events"
    done
    echo "$now load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$events"
    sleep 1
  done
) &
poller=$!

echo "fresh_demo: commit $commit, chroot $dir (reused: $reused), $(nproc) cores" | tee "$log" >&2
echo "fresh_demo: load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log" >&2
echo "$(date +%s.%N) start" >>"$events"
set +e
chroot "$dir" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/bash -c 'cd /root/sluice && time scripts/demo.sh' 2>&1 |
  while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done | tee -a "$log"
rc=${PIPESTATUS[0]}
set -e
echo "$(date +%s.%N) end" >>"$events"
kill "$poller" 2>/dev/null || true
poller=
echo "fresh_demo: load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log" >&2

build=$dir/root/sluice/build
# (the birth time of the build directory, or where the file system keeps none, CMakeSystem.cmake's)
born=$(stat -c %.9W "$build" 2>/dev/null || echo 0)
if [[ $born == 0* ]]; then born=$(stat -c %.9Y "$build"/CMakeFiles/*/CMakeSystem.cmake 2>/dev/null | head -1 || true); fi
if [[ -n $born ]]; then echo "$born build_dir_born" >>"$events"; fi
if [[ -e $build/build.ninja ]]; then echo "$(stat -c %.9Y "$build/build.ninja") build_ninja_written" >>"$events"; fi
python3 - "$build" "$events" "$log" "$rc" <<'EOF' | tee "$dir/root/fresh_demo.summary"
import collections, os, re, sys
build, events, log, rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ev = collections.defaultdict(list)
for l in open(events):
    t, kind, rest = (l.rstrip("\n") + "  ").split(" ", 2)
    ev[kind].append((float(t), rest.strip()))
start, end = ev["start"][0][0], ev["end"][0][0]
lines = []
for l in open(log):
    m = re.match(r"(\d+\.\d+) (.*)", l.rstrip("\n"))
    if m: lines.append((float(m.group(1)), m.group(2)))
def first(pat):
    return next((t for t, s in lines if re.search(pat, s)), None)
def last(pat):
    return next((t for t, s in reversed(lines) if re.search(pat, s)), None)
print(f"\n== fresh_demo summary (exit status {rc}) ==")
print(f"total wall time of scripts/demo.sh: {end - start:.1f} s")
for t, s in lines:
    if re.match(r"(real|user|sys)\t", s): print("  bash time:", s)
# Phase boundaries: setup.sh ends when cmake creates the build directory (its birth time);
# the configure ends when build.ninja is written; the build ends with ninja's [N/N] line; then
# examples/demo.sh prints "sluice demo:" and the demo runs to the end.
cfg_start = ev["build_dir_born"][0][0] if ev["build_dir_born"] else None
cfg_end = ev["build_ninja_written"][0][0] if ev["build_ninja_written"] else None
ninja_first, ninja_last = first(r"^\[\d+/\d+\]"), last(r"^\[(\d+)/\1\]")
demo = first(r"^sluice demo:")
def span(name, a, b, note=""):
    if a is not None and b is not None: print(f"  {name:28s} {a - start:7.1f} .. {b - start:7.1f} s  = {b - a:7.1f} s {note}")
print("phases (seconds from the start):")
span("setup.sh (apt-get)", start, cfg_start)
span("cmake configure", cfg_start, ninja_first or cfg_end, "(to ninja's first line)")
span("build (ninja)", ninja_first, ninja_last, "(first to last ninja line)")
span("demo (examples/demo.sh)", demo, end)
ticks = int(ev["ninja_cpu_ticks"][-1][1]) if ev["ninja_cpu_ticks"] else 0
cpu = ticks / os.sysconf("SC_CLK_TCK")
if ticks: print(f"build CPU time (ninja and its finished children, user+sys, last 1-s sample): {cpu:.1f} s")
loads = [(t, float(r.split()[0])) for t, r in ev["load"]]
def la(a, b):
    v = [x for t, x in loads if a <= t <= b]
    return f"min {min(v):.2f} mean {sum(v) / len(v):.2f} max {max(v):.2f}" if v else "n/a"
print(f"load average before: {ev['load'][0][1]}   after: {ev['load'][-1][1]}")
print(f"1-min load average over the run:    {la(start, end)}")
if ninja_first: print(f"1-min load average during the build: {la(ninja_first, ninja_last)}")

nl = os.path.join(build, ".ninja_log")
if not os.path.exists(nl): sys.exit(0)
dur = {}
for l in open(nl):
    if l.startswith("#"): continue
    s, e, _, out, _ = l.rstrip("\n").split("\t")
    dur[out] = (int(s), int(e))
ms = {o: (e - s) / 1000 for o, (s, e) in dur.items()}
jobtime = sum(ms.values())
span_s = (max(e for s, e in dur.values()) - min(s for s, e in dur.values())) / 1000
print(f"\nninja: {len(dur)} outputs, {span_s:.1f} s from the first start to the last end, {jobtime:.1f} s "
      "of job time (elapsed per job: other load inflates it)")
scale = cpu / jobtime if ticks else 1.0
if ticks: print(f"CPU time / job time = {scale:.2f} (the share of a core a job got on average)")
print("15 slowest jobs (elapsed s; x that ratio: estimated CPU s):")
for o, d in sorted(ms.items(), key=lambda x: -x[1])[:15]: print(f"  {d:6.1f} {d * scale:6.1f}  {o}")
per = collections.Counter()
for o, d in ms.items():
    m = re.match(r"(.*?)/?CMakeFiles/([^/]+)\.dir/", o)
    per[((m.group(1) or ".") + "/ " + m.group(2)) if m else "links and other: " + (os.path.dirname(o) or ".")] += d
print("job time per target (elapsed s; estimated CPU s; compiles of <dir>/CMakeFiles/<target>.dir, links apart):")
for k, d in per.most_common(): print(f"  {d:7.1f} {d * scale:7.1f}  {k}")
perdir = collections.Counter()
for o, d in ms.items(): perdir["(absolute paths)" if o.startswith("/") else o.split("/")[0] if "/" in o else "."] += d
print("job time per top directory (elapsed s; estimated CPU s):")
for k, d in perdir.most_common(): print(f"  {d:7.1f} {d * scale:7.1f}  {k}")

# The graph from build.ninja (every kind of input), through phony edges to the jobs that ran.
text = open(os.path.join(build, "build.ninja")).read().replace("$\n", " ")
unesc = lambda x: x.replace("$ ", " ").replace("$:", ":").replace("$$", "$")
edges, producer = {}, {}
for line in text.split("\n"):
    if not line.startswith("build "): continue
    head, _, rhs = line[6:].partition(": ")
    outs = [unesc(o) for o in re.split(r"(?<!\$) ", head) if o and o != "|"]
    ins = [unesc(i) for i in re.split(r"(?<!\$) ", rhs)[1:] if i and i not in ("|", "||", "|@")]
    edges[outs[0]] = ins
    for o in outs: producer[o] = outs[0]
ran = {producer[o] for o in dur if o in producer}
d = collections.defaultdict(float)
for o, x in ms.items():
    if o in producer: d[producer[o]] = max(d[producer[o]], x)
memo = {}
def preds(e, stack=()):
    if e in memo: return memo[e]
    out = set()
    for i in edges.get(e, []):
        p = producer.get(i)
        if p is None or p in stack: continue
        if p in ran: out.add(p)
        else: out |= preds(p, stack + (e,))
    memo[e] = out
    return out
P = {e: preds(e) for e in ran}
cp = {}
def crit(e):
    if e not in cp: cp[e] = d[e] + max((crit(p) for p in P[e]), default=0.0)
    return cp[e]
for e in sorted(ran, key=lambda e: len(P[e])): crit(e)
tail = max(ran, key=crit)
chain = [tail]
while P[chain[-1]]: chain.append(max(P[chain[-1]], key=crit))
print(f"critical path: {crit(tail):.1f} s of job time ({crit(tail) * scale:.1f} s estimated CPU): "
      + " <- ".join(f"{os.path.basename(e)} {d[e]:.1f}" for e in chain))
# A -j2 run of the same jobs in ninja's order, each job taking its estimated CPU time.
def simulate(jobs, f):
    succ = collections.defaultdict(list)
    for e in ran:
        for p in P[e]: succ[p].append(e)
    need = {e: len(P[e]) for e in ran}
    prio = {e: min(dur[o][0] for o in dur if producer.get(o) == e) for e in ran}
    ready = sorted((e for e in ran if need[e] == 0), key=prio.get)
    running, t = [], 0.0
    while ready or running:
        while ready and len(running) < jobs:
            e = ready.pop(0); running.append((t + d[e] * f, e))
        running.sort(); t, e = running.pop(0)
        for s in succ[e]:
            need[s] -= 1
            if need[s] == 0: ready.append(s); ready.sort(key=prio.get)
    return t
print(f"replay of the job times at -j2: {simulate(2, 1.0):.1f} s (measured: {span_s:.1f} s)")
if ticks:
    print(f"idle 2-core estimate of the build: CPU/2 = {cpu / 2:.1f} s; critical path {crit(tail) * scale:.1f} s; "
          f"-j2 replay with estimated CPU times: {simulate(2, scale):.1f} s")
EOF
exit "$rc"
