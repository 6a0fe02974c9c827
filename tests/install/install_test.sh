#!/usr/bin/env bash
# The installed sluice as a user gets it (tests/install/CMakeLists.txt runs one step per test):
#   install_test.sh stage       BUILD STAGE         cmake --install into STAGE (the fixture)
#   install_test.sh layout      BUILD STAGE         the files where the README says they are
#   install_test.sh cmake       BUILD STAGE SOURCE  examples/external built with find_package(sluice), run
#   install_test.sh pkgconfig   BUILD STAGE SOURCE  a CAF-free sender built with pkg-config, run
#   install_test.sh python      BUILD STAGE         the module imported from STAGE, a round trip
#   install_test.sh node        BUILD STAGE         the package required from STAGE, a round trip
#   install_test.sh docs        BUILD STAGE         man page and completions know every verb
#   install_test.sh deb         BUILD STAGE         cpack's .deb: layout, and Depends covers every library
#   install_test.sh apt         BUILD STAGE         apt installs the .deb on this machine, each part works
#                                                   from the system's paths, apt removes it (opt-in:
#                                                   SLUICE_TEST_SYSTEM_INSTALL=1, as .ci/run sets)
# Exit 77 (ctest: skipped) when something this machine lacks is needed.
set -euo pipefail
step=$1 build=$2 stage=$3 source=${4:-}
skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAILED: $*" >&2; exit 1; }
sluice=$stage/bin/sluice
# The executables of runtime/cli/actor_verbs.hpp, one verb of each: sluice execs the one next to it.
actor_executables=(sluice-launch sluice-monitors sluice-loadtest sluice-bridge)
actor_verbs=(launch monitor-overflow loadtest bridge)
work=$(mktemp -d /dev/shm/sluice-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
bus=$work/bus

case $step in
stage)
  rm -rf "$stage"
  cmake --install "$build" --prefix "$stage" >/dev/null
  ;;

layout)
  libdir=$(dirname "$(find "$stage" -name libsluice_inbox.a)")
  for f in bin/sluice "${actor_executables[@]/#/bin/}" include/sluice/inbox/inbox.hpp \
      include/sluice/backpressure/send.hpp include/sluice/runtime/config.hpp \
      include/sluice/actors/agent/agent.hpp share/man/man1/sluice.1 \
      share/bash-completion/completions/sluice; do
    [[ -e $stage/$f ]] || fail "$f is not installed"
  done
  for lib in inbox backpressure runtime agent; do
    [[ -e $libdir/libsluice_$lib.a ]] || fail "libsluice_$lib.a is not installed"
  done
  for f in cmake/sluice/sluiceConfig.cmake cmake/sluice/sluiceConfigVersion.cmake \
      cmake/sluice/sluiceTargets.cmake cmake/sluice/FindCAF.cmake pkgconfig/sluice.pc; do
    [[ -e $libdir/$f ]] || fail "$libdir/$f is not installed"
  done
  # The executables side by side: sluice hands each actor verb to its executable next to it.
  "$sluice" --version | grep -q '^sluice ' || fail "sluice --version"
  for verb in "${actor_verbs[@]}"; do
    "$sluice" "$verb" --help | grep -q "Usage: sluice $verb" || fail "sluice $verb --help from the stage"
  done
  ;;

cmake)
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S "$source/examples/external" -B "$work/external" -DCMAKE_PREFIX_PATH="$stage" \
    "${launcher[@]}" >/dev/null
  cmake --build "$work/external" >/dev/null
  SLUICE_AGENT=worker SLUICE_DIR=$bus "$work/external/echo_agent" &
  agent=$!
  "$sluice" --dir "$bus" send planner worker task '{"n":1}'
  got=$("$sluice" --dir "$bus" recv planner --wait 30s)
  kill -TERM $agent
  wait $agent || fail "echo_agent exited $?"
  [[ $got == *'"from":"worker","to":"planner"'*'"type":"result"'*'"payload":{"n":1}'* ]] ||
    fail "no reply from the externally built agent: $got"
  "$work/external/send_one" "$bus" a w hello >/dev/null
  [[ $("$sluice" --dir "$bus" count w) == 1 ]] || fail "send_one sent nothing"
  # The README's C++ agent as printed there builds the way the README says.
  mkdir "$work/readme"
  sed -n '/^## A C++ agent in twenty lines/,/^## /p' "$source/README.md" |
    sed -n '/^```cpp$/,/^```$/p' | sed '1d;$d' >"$work/readme/agent.cpp"
  [[ -s $work/readme/agent.cpp ]] || fail "no C++ agent in the README"
  cat >"$work/readme/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(readme_agent LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(sluice REQUIRED)
add_executable(agent agent.cpp)
target_link_libraries(agent PRIVATE sluice::agent)
CMAKE
  cmake -S "$work/readme" -B "$work/readme/build" -DCMAKE_PREFIX_PATH="$stage" "${launcher[@]}" >/dev/null
  cmake --build "$work/readme/build" >/dev/null 2>"$work/readme/errors" ||
    fail "the README's C++ agent does not build against the install: $(head -3 "$work/readme/errors")"
  ;;

pkgconfig)
  command -v pkg-config >/dev/null || skip "pkg-config is not installed"
  pc=$(dirname "$(find "$stage" -name sluice.pc)")
  flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs sluice)
  [[ $flags == *"-I$stage/"* || $flags == *"-I$pc/"* ]] || fail "pkg-config points outside the stage: $flags"
  # shellcheck disable=SC2086
  c++ -std=c++17 -o "$work/send_one" "$source/examples/external/send_one.cpp" $flags
  "$work/send_one" "$bus" a w hello >/dev/null
  [[ $("$sluice" --dir "$bus" count w) == 1 ]] || fail "the pkg-config build sent nothing"
  ;;

python)
  init=$(find "$stage" -path '*/sluice/__init__.py')
  [[ -n $init ]] || skip "the Python module is not built"
  site=$(dirname "$(dirname "$init")")
  python=$(sed -n 's/^SLUICE_PYTHON_EXECUTABLE:INTERNAL=//p' "$build/CMakeCache.txt")
  PYTHONPATH=$site "$python" - "$bus" "$stage" <<'PY'
import sys
import sluice
bus_dir, stage = sys.argv[1], sys.argv[2]
assert sluice.__file__.startswith(stage), sluice.__file__
sluice.Bus(dir=bus_dir).send("py", "w", "task", b"from the installed module")
PY
  [[ $("$sluice" --dir "$bus" recv w) == *'"payload":"from the installed module"'* ]] || fail "python round trip"
  ;;

node)
  package=$(find "$stage" -path '*/sluice/sluice.node')
  [[ -n $package ]] || skip "the Node.js addon is not built"
  node=$(sed -n 's/^NODE_EXECUTABLE:FILEPATH=//p' "$build/CMakeCache.txt")
  NODE_PATH=$(dirname "$(dirname "$package")") "$node" - "$bus" "$stage" <<'JS'
const [bus, stage] = process.argv.slice(2);
const sluice = require('sluice');
if (!require.resolve('sluice').startsWith(stage)) throw new Error(require.resolve('sluice'));
new sluice.Bus({ dir: bus }).send('js', 'w', 'task', Buffer.from('from the installed addon'))
  .catch((e) => { console.error(e); process.exit(1); });
JS
  [[ $("$sluice" --dir "$bus" recv w) == *'"payload":"from the installed addon"'* ]] || fail "node round trip"
  ;;

docs)
  verbs=$("$sluice" --help | sed -n '/^Subcommands:/,/^$/p' | sed -n 's/^  \([a-z-]*\).*/\1/p')
  [[ $(wc -l <<<"$verbs") -gt 10 ]] || fail "could not read the verbs from sluice --help"
  man=$stage/share/man/man1/sluice.1
  for verb in $verbs; do
    grep -q "^\.SS \"sluice ${verb//-/\\\\-} " "$man" || fail "the man page lacks $verb"
  done
  if command -v man >/dev/null; then
    warnings=$(MANWIDTH=80 man --warnings -l "$man" 2>&1 >/dev/null)
    [[ -z $warnings ]] || fail "man reports: $warnings"
  fi
  completion=$stage/share/bash-completion/completions/sluice
  complete_words() {
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sluice; echo "${COMPREPLY[*]}"' \
      _ "$completion" "$@"
  }
  for verb in $verbs; do
    [[ " $(complete_words sluice "${verb:0:3}") " == *" $verb "* ]] || fail "bash does not complete $verb"
  done
  [[ $(complete_words sluice send --pri) == "--priority --print-id" ]] || fail "bash: send's flags"
  "$sluice" --dir "$bus" init alpha beta >/dev/null
  [[ $(complete_words sluice --dir "$bus" recv "") == "alpha beta" ]] || fail "bash: agent names"
  zsh_file=$(find "$stage" -name _sluice)
  for verb in $verbs; do grep -q "'$verb:" "$zsh_file" || fail "zsh completion lacks $verb"; done
  if command -v zsh >/dev/null; then zsh -n "$zsh_file" || fail "zsh completion does not parse"; fi
  ;;

deb)
  command -v dpkg-shlibdeps >/dev/null || skip "dpkg-dev is not installed (cpack needs dpkg-shlibdeps)"
  (cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
  deb=$(ls "$work"/deb/sluice_*.deb)
  contents=$(dpkg-deb -c "$deb")
  for f in ./usr/bin/sluice "${actor_executables[@]/#/./usr/bin/}" ./usr/include/sluice/inbox/inbox.hpp \
      ./usr/share/man/man1/sluice.1 ./usr/share/bash-completion/completions/sluice \
      ./usr/share/zsh/vendor-completions/_sluice; do
    grep -q " $f\$" <<<"$contents" || fail "$f is not in the .deb"
  done
  if [[ -n $(find "$stage" -path '*/sluice/__init__.py') ]]; then
    grep -q ' ./usr/lib/python3/dist-packages/sluice/__init__.py$' <<<"$contents" || fail ".deb: the Python package"
  fi
  if [[ -n $(find "$stage" -name sluice.node) ]]; then
    grep -q ' ./usr/lib/[a-z0-9_-]*/nodejs/sluice/sluice.node$' <<<"$contents" || fail ".deb: the Node.js package"
  fi
  # Every shared library an executable or module of the package needs comes from a package
  # it depends on.
  depends=$(dpkg-deb -f "$deb" Depends)
  dpkg-deb -x "$deb" "$work/root"
  while IFS= read -r elf; do
    for needed in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      # (Filters that read to the end: with pipefail, one that stops early fails the pipe.)
      path=$(ldconfig -p | awk -v lib="$needed" '$1 == lib && !found { print $NF; found = 1 }')
      [[ -n $path ]] || fail "${elf#"$work/root"} needs $needed, which this machine does not have"
      owner=$({ dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path"; } |
        awk -F: 'NR == 1 { print $1 }')
      [[ $owner == libc6 || $depends == *"$owner"* ]] ||
        fail "${elf#"$work/root"} needs $needed from $owner, which Depends ($depends) lacks"
    done
  done < <(find "$work/root" -type f \( -perm -u+x -o -name '*.so' -o -name '*.node' \) -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print)
  [[ $depends == *libcaf-core* ]] || fail "Depends lacks CAF: $depends"
  ;;

apt)
  # Changes the machine: only when asked, as root, and never over a sluice installed otherwise.
  [[ ${SLUICE_TEST_SYSTEM_INSTALL:-} == 1 ]] || skip "installs into the system: set SLUICE_TEST_SYSTEM_INSTALL=1"
  [[ $(id -u) == 0 ]] || skip "apt needs root"
  command -v apt-get >/dev/null && command -v dpkg-shlibdeps >/dev/null || skip "needs apt-get and dpkg-dev"
  if dpkg-query -W -f '${Status}' sluice 2>/dev/null | grep -q installed; then
    skip "a sluice package is installed already: not replacing it"
  fi
  [[ ! -e /usr/bin/sluice ]] || skip "/usr/bin/sluice exists and belongs to no package: not replacing it"
  (cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
  deb=$(ls "$work"/deb/sluice_*.deb)
  contents=$(dpkg-deb -c "$deb")
  node=$(sed -n 's/^NODE_EXECUTABLE:FILEPATH=//p' "$build/CMakeCache.txt")
  trap 'apt-get remove -y --purge sluice >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  # Every dependency is already here (this machine built sluice), so apt needs no network.
  apt-get install -y --no-install-recommends "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get install"; }
  cd "$work"  # nothing of the source or the build tree on any search path from here on
  clean_env=(env -i PATH=/usr/bin:/bin HOME="$work")
  "${clean_env[@]}" sluice --version | grep -q '^sluice ' || fail "sluice --version from /usr/bin"
  for verb in "${actor_verbs[@]}"; do
    "${clean_env[@]}" sluice "$verb" --help | grep -q "Usage: sluice $verb" || fail "sluice does not find the executable of $verb in /usr/bin"
  done
  "${clean_env[@]}" sluice --dir "$bus" send a w task '{"n":1}' || fail "send through the installed sluice"
  [[ $("${clean_env[@]}" sluice --dir "$bus" recv w) == *'"payload":{"n":1}'* ]] || fail "recv through the installed sluice"
  if command -v man >/dev/null; then
    [[ $(man -w sluice) == /usr/share/man/man1/sluice.1* ]] || fail "man does not find sluice(1)"
  fi
  # Debian's own python3 (the one the package's Recommends names), not whatever is first on PATH.
  if grep -q '/dist-packages/sluice/__init__.py$' <<<"$contents" && [[ -x /usr/bin/python3 ]]; then
    "${clean_env[@]}" /usr/bin/python3 - "$bus" <<'PY' || fail "Debian's python3 does not import the installed module"
import sys, sluice
assert sluice.__file__.startswith("/usr/lib/python3/dist-packages/"), sluice.__file__
sluice.Bus(dir=sys.argv[1]).send("py", "w", "task", b"from the system's module")
PY
    [[ $(sluice --dir "$bus" recv w) == *"from the system's module"* ]] || fail "python round trip"
  fi
  # The machine's node, whichever distribution it came from (Debian's or NodeSource's).
  if grep -q '/sluice/sluice.node$' <<<"$contents" && [[ -x $node ]]; then
    "${clean_env[@]}" "$node" - "$bus" <<'JS' || fail "$node does not require the installed addon"
const sluice = require('sluice');
console.error(require.resolve('sluice'));
new sluice.Bus({ dir: process.argv[2] }).send('js', 'w', 'task', Buffer.from("from the system's addon"))
  .catch((e) => { console.error(e); process.exit(1); });
JS
    [[ $(sluice --dir "$bus" recv w) == *"from the system's addon"* ]] || fail "node round trip"
  fi
  apt-get remove -y --purge sluice >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get remove"; }
  left=$(find /usr/bin/sluice "${actor_executables[@]/#//usr/bin/}" /usr/include/sluice /usr/lib/node/sluice \
    /usr/lib/python3/dist-packages/sluice 2>/dev/null || true)
  [[ -z $left ]] || fail "apt-get remove left: $left"
  ;;

*) fail "unknown step $step" ;;
esac
