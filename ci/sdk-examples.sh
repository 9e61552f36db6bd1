#!/usr/bin/env bash
# ci/sdk-examples.sh PREFIX — the fuzzing SDK as a user meets it: build each standalone
# project of examples/ (protocol/, kernel-style/) OUTSIDE the tree against the oblique
# installed in PREFIX (find_package(oblique) + one oblique_add_fuzz_target call), run
# its own ctests, fuzz it with the installed obq-fuzz until its planted bug is found,
# and check the crash: the report names the expected rule (the project's EXPECT file)
# and the readable .trace replays to the same report through the installed obq-trace;
# the project's weak-memory build <target>-weak is built and runs its seeds silently
# with its atomics modelled.
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
    echo "   [$proj/$a] ok: '$rule' found and grouped, its trace ($(grep -c . "$crash.trace") lines) replays to the same report"
  done
done
exit $fail
