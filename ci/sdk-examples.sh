#!/usr/bin/env bash
# ci/sdk-examples.sh PREFIX — the fuzzing SDK as a user meets it: build each standalone
# project of examples/ (protocol/, kernel-style/) OUTSIDE the tree against the oblique
# installed in PREFIX (find_package(oblique) + one oblique_add_fuzz_target call), run
# its own ctests, fuzz it with the installed obq-fuzz until its planted bug is found,
# and check the crash: the report names the expected rule (the project's EXPECT file)
# and the readable .trace replays to the same report through the installed obq-trace;
# the project's weak-memory build <target>-weak is built and runs its seeds silently
# with its atomics modelled.  Then examples/weak-publish, the weak-memory build from
# CMake with ENGINE libfuzzer and from pkg-config (block at the end).
# A project's EXPECT file says "<target> <rule>": the binary to fuzz and the planted bug.
# A project's ADAPTERS file lists further allocator adapters to fuzz it over (each
# must find the bug too).  Called by ci/test.sh's install stage; exit 0 when all hold.
set -euo pipefail
prefix=${1:?usage: ci/sdk-examples.sh PREFIX}
prefix=$(cd "$prefix" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$prefix/bin:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
for proj in protocol kernel-style; do
  src=$here/examples/$proj
  [ -f "$src/CMakeLists.txt" ] || continue
  p=$work/$proj
  cp -r "$src" "$p"                      # a project of its own, next to nothing of oblique
  read -r name rule <"$p/EXPECT"           # EXPECT: "<target> <rule>" of the planted bug
  echo "== [$proj] configure + build against $prefix"
  cmake -S "$p" -B "$p/build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_PREFIX_PATH="$prefix" \
        >"$work/$proj.log" 2>&1 || { cat "$work/$proj.log"; fail=1; continue; }
  cmake --build "$p/build" >>"$work/$proj.log" 2>&1 || { tail -n 40 "$work/$proj.log"; fail=1; continue; }
  echo "== [$proj] its own ctests (seeds replay, self-check, round trip, stress, shipped targets)"
  ctest --test-dir "$p/build" --output-on-failure 2>&1 | tail -n 3 | sed 's/^/   /'
  ctest --test-dir "$p/build" >/dev/null 2>&1 || { echo "   [$proj] ctest FAILED"; fail=1; }
  # The weak-memory build from the installed oblique::harness_weak (docs/weak-memory.md):
  # built, silent on the seeds, and its atomics reach the model (modelled loads > 0: the
  # -fsanitize=thread instrumentation calls the installed runtime, not libtsan).
  wbin=$p/build/$name-weak
  if [ ! -x "$wbin" ]; then
    echo "   [$proj] FAILED: $name-weak was not built from oblique::harness_weak"; fail=1
  else
    set +e
    wout=$("$wbin" --selfcheck "$p/build/$name.corpus" 2>&1)
    wrc=$?
    set -e
    loads=$(sed -n 's/.*weak memory: \([0-9]*\) modelled loads.*/\1/p' <<<"$wout" | head -n 1)
    if [ "$wrc" != 0 ] || [ "${loads:-0}" -eq 0 ]; then
      echo "   [$proj] FAILED: $name-weak on its seeds (exit $wrc, modelled loads '${loads:-none}'):"
      tail -n 20 <<<"$wout"; fail=1
    else
      echo "   [$proj] ok: $name-weak (installed weak-memory harness) silent on its seeds, $loads modelled loads"
    fi
  fi
  bin=$p/build/$name-libfuzzer
  adapters=(oblique)
  [ -f "$p/ADAPTERS" ] && mapfile -t -O 1 adapters < <(grep -v '^#' "$p/ADAPTERS")
  for a in "${adapters[@]}"; do
    [ -n "$a" ] || continue
    echo "== [$proj] obq-fuzz $name (adapter $a): expecting the planted bug ($rule)"
    out=$p/fuzz-$a
    set +e
    obq-fuzz --seconds 60 --adapter "$a" --out "$out" "$bin"
    rc=$?
    set -e
    crash=$(ls "$out/crashes/$name"/crash-* 2>/dev/null | grep -v '\.trace$\|\.report$' | head -n 1 || true)
    if [ "$rc" != 1 ] || [ -z "$crash" ]; then
      echo "   [$proj/$a] FAILED: no crash found (obq-fuzz exit $rc)"; fail=1; continue
    fi
    if ! grep -q "ERROR: $rule" "$crash.report"; then
      echo "   [$proj/$a] FAILED: the report is not '$rule':"; head -n 20 "$crash.report"; fail=1; continue
    fi
    # The installed obq-crash-group grouped it: a group whose signature names the rule.
    if ! grep -qx "$rule" "$out/groups/$name"/*/SIGNATURE 2>/dev/null; then
      echo "   [$proj/$a] FAILED: no crash group for '$rule' in $out/groups/$name/"; fail=1; continue
    fi
    set +e
    OBQ_ADAPTER=$a timeout -k 10 300 obq-trace replay --bin "$bin" "$crash.trace" >"$crash.replay" 2>&1
    rrc=$?
    set -e
    if [ "$rrc" = 0 ] || ! grep -q "ERROR: $rule" "$crash.replay"; then
      echo "   [$proj/$a] FAILED: obq-trace replay of $crash.trace did not report '$rule' (exit $rrc):"
      tail -n 20 "$crash.replay"; fail=1; continue
    fi
    # the libFuzzer binary itself, given the readable trace alone, replays it as the
    # standalone runner does (libFuzzer would run the text as bytes)
    set +e
    OBQ_ADAPTER=$a timeout -k 10 300 "$bin" "$crash.trace" >"$crash.direct" 2>&1
    drc=$?
    set -e
    if [ "$drc" = 0 ] || ! grep -q "ERROR: $rule" "$crash.direct"; then
      echo "   [$proj/$a] FAILED: $name-libfuzzer $crash.trace did not replay to '$rule' (exit $drc):"
      tail -n 20 "$crash.direct"; fail=1; continue
    fi
    echo "   [$proj/$a] ok: '$rule' found and grouped, its trace ($(grep -c . "$crash.trace") lines) replays to the same report (obq-trace, and the binary given the trace)"
  done
done

# The weak-memory build as a user meets it (docs/weak-memory.md), on examples/weak-publish
# (an RCU publication; -DPLANTED_RELAXED_PUBLISH plants a relaxed publish):
#  - with CMake and ENGINE libfuzzer, publish-weak is a libFuzzer binary over the
#    installed oblique::harness_weak_asan: its ctests pass (the seeds silent, the
#    witness reported by publish_planted-weak only), and 2 s of fuzzing from its seeds
#    find nothing and end with the model's totals (modelled loads > 0);
#  - with pkg-config (oblique-harness-weak with cc, oblique-harness-weak-libfuzzer with
#    clang), compiled and linked in two steps as docs/sdk.md prints them: the runner is
#    silent on the seeds, the planted build reports the witness's data race, and the
#    libFuzzer binary runs 5,000 inputs silently; neither links libtsan.
weak_check() { # label: runs "$@", wants exit 0 and "weak memory: N modelled loads" with N > 0
  local label=$1; shift
  local wout wrc loads
  set +e
  wout=$("$@" 2>&1)
  wrc=$?
  set -e
  loads=$(sed -n 's/.*weak memory: \([0-9]*\) modelled loads.*/\1/p' <<<"$wout" | tail -n 1)
  if [ "$wrc" != 0 ] || [ "${loads:-0}" -eq 0 ]; then
    echo "   [weak-publish] FAILED: $label (exit $wrc, modelled loads '${loads:-none}'):"
    tail -n 20 <<<"$wout"; fail=1; return 1
  fi
  echo "   [weak-publish] ok: $label: no report, $loads modelled loads"
}
no_libtsan() { # binary
  if readelf -d "$1" | grep -q 'NEEDED.*libtsan'; then
    echo "   [weak-publish] FAILED: $(basename "$1") links libtsan"; fail=1; return 1
  fi
}
p=$work/weak-publish
cp -r "$here/examples/weak-publish" "$p"
wit=$p/witness/relaxed_publish.trace
t0=$(date +%s)
echo "== [weak-publish] ENGINE libfuzzer against $prefix: publish-weak over oblique::harness_weak_asan"
if cmake -S "$p" -B "$p/build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_PREFIX_PATH="$prefix" \
         -DOBLIQUE_FUZZ_ENGINE=libfuzzer >"$work/weak.log" 2>&1 &&
   cmake --build "$p/build" >>"$work/weak.log" 2>&1; then
  if ctest --test-dir "$p/build" --output-on-failure >"$work/weak-ctest.log" 2>&1; then
    tail -n 3 "$work/weak-ctest.log" | sed 's/^/   /'
  else
    tail -n 30 "$work/weak-ctest.log"; echo "   [weak-publish] ctest FAILED"; fail=1
  fi
  if ! grep -q '^Usage:' <<<"$("$p/build/publish-weak" -help=1 2>&1 || true)"; then
    echo "   [weak-publish] FAILED: publish-weak is not a libFuzzer binary"; fail=1
  fi
  no_libtsan "$p/build/publish-weak" || true
  mkdir -p "$p/fuzz"
  cp "$p/build/publish.corpus"/* "$p/fuzz/"
  weak_check "libFuzzer publish-weak, 2 s from its seeds" \
    "$p/build/publish-weak" -max_total_time=2 -artifact_prefix="$p/fuzz-" "$p/fuzz" || true
else
  tail -n 40 "$work/weak.log"; fail=1
fi
echo "== [weak-publish] pkg-config: oblique-harness-weak (cc), oblique-harness-weak-libfuzzer (clang)"
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n 1)
export PKG_CONFIG_PATH="$libdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
(
  cd "$p"
  # shellcheck disable=SC2046
  cc -c publish.c -o publish.o $(pkg-config --cflags oblique-harness-weak) &&
  cc -o publish-weak publish.o $(pkg-config --libs oblique-harness-weak) &&
  cc -c -DPLANTED_RELAXED_PUBLISH publish.c -o planted.o $(pkg-config --cflags oblique-harness-weak) &&
  cc -o planted-weak planted.o $(pkg-config --libs oblique-harness-weak) &&
  clang -c publish.c -o publish-lf.o $(pkg-config --cflags oblique-harness-weak-libfuzzer) &&
  clang -o publish-weak-libfuzzer publish-lf.o $(pkg-config --libs oblique-harness-weak-libfuzzer)
) >"$work/weak-pc.log" 2>&1 || { cat "$work/weak-pc.log"; fail=1; }
if [ -x "$p/publish-weak" ] && [ -x "$p/planted-weak" ] && [ -x "$p/publish-weak-libfuzzer" ]; then
  no_libtsan "$p/publish-weak" || true
  no_libtsan "$p/publish-weak-libfuzzer" || true
  weak_check "pkg-config runner on its seeds (self-check)" "$p/publish-weak" --selfcheck "$p/seeds" || true
  weak_check "pkg-config libFuzzer binary, 5,000 inputs from its seeds" \
    "$p/publish-weak-libfuzzer" -runs=5000 -artifact_prefix="$p/pc-" "$p/build/publish.corpus" || true
  # the planted bug: the witness is a report (a data race naming both sites), in a child
  set +e
  pout=$("$p/planted-weak" "$wit" 2>&1)
  prc=$?
  set -e
  if [ "$prc" = 0 ] || ! grep -q 'ERROR: data-race' <<<"$pout" ||
     ! grep -q 'op_update' <<<"$pout" || ! grep -q 'op_read' <<<"$pout"; then
    echo "   [weak-publish] FAILED: the planted relaxed publish was not reported on its witness (exit $prc):"
    tail -n 20 <<<"$pout"; fail=1
  else
    echo "   [weak-publish] ok: planted relaxed publish: the witness reports data-race (op_read against op_update)"
  fi
  if ! "$p/publish-weak" --quiet "$wit"; then
    echo "   [weak-publish] FAILED: the clean build reports on the witness"; fail=1
  fi
fi
echo "   [weak-publish] $(( $(date +%s) - t0 )) s"
exit $fail
