#!/usr/bin/env bash
# ci/layers.sh — the include graph follows the layer order of docs/layers.md: no file
# includes a header of a higher layer, no include cycle, no unlisted file, and no
# library file (layers up to "access") but the seam includes a sanitizer or Valgrind
# header.  The table
# of docs/layers.md is the input (rows "| N | name | `glob` ... |").  ctest `layers`.
#   ci/layers.sh [--root DIR]
# Exit 0: clean; 1: an upward include, a cycle, an unlisted file or a tool header
# outside the seam (each printed);
# 2: usage or an unreadable table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$(cd "$2" && pwd); shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "ci/layers.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
command -v python3 >/dev/null || { echo "ci/layers.sh: needs python3 (ci/deps.sh test)" >&2; exit 2; }
exec python3 - "$root" <<'PY'
import fnmatch, os, re, sys
root = sys.argv[1]
doc = os.path.join(root, "docs/layers.md")
try:
    text = open(doc).read()
except OSError as e:
    print("layers: cannot read %s: %s" % (doc, e), file=sys.stderr); sys.exit(2)

# The table: "| N | name | `glob` `glob` |".
rows = []
for line in text.splitlines():
    m = re.match(r"^\|\s*(\d+)\s*\|\s*([a-z0-9_-]+)\s*\|(.*)\|\s*$", line)
    if m:
        rows.append((int(m.group(1)), m.group(2), re.findall(r"`([^`]+)`", m.group(3))))
if not rows:
    print("layers: no layer table in %s" % doc, file=sys.stderr); sys.exit(2)

SCOPE = ["alloc/include", "alloc/src", "alloc/testing", "sanitizers", "targets/harness"]
SKIP = ["sanitizers/tests/"]
files = []
for d in SCOPE:
    for dp, dn, fn in os.walk(os.path.join(root, d)):
        for f in fn:
            rel = os.path.relpath(os.path.join(dp, f), root)
            if any(rel.startswith(s) for s in SKIP):
                continue
            if f.endswith((".c", ".h")) or f == "config.h.in":
                files.append(rel)
files.sort()

def layer_of(rel):
    for n, name, globs in rows:
        if any(fnmatch.fnmatchcase(rel, g) for g in globs):
            return n, name
    return None

# Layers 0..SEAM_TOP (the library: every layer below the checker) include no tool
# header (<sanitizer/...>, <valgrind/...>) but in the layer named "seam".
SEAM_TOP = max([n for n, name, g in rows if name == "access"] or [0])

ANGLE = ["alloc/include", "alloc/testing", "targets/harness/include"]
def resolve(src, inc, angle):
    if inc == "oblique/config.h":
        return "alloc/include/oblique/config.h.in"
    dirs = ([] if angle else [os.path.dirname(src), "alloc/src"]) + ANGLE
    for d in dirs:
        p = os.path.normpath(os.path.join(d, inc))
        if os.path.isfile(os.path.join(root, p)):
            return p
    return None  # a system header

bad = []
layers = {}
for f in files:
    l = layer_of(f)
    if l is None:
        bad.append("layers: UNLISTED %s is in no row of docs/layers.md" % f)
    layers[f] = l
edges = {f: [] for f in files}
nedges = 0
inc_re = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
for f in files:
    for line in open(os.path.join(root, f), errors="replace"):
        m = inc_re.match(line)
        if not m:
            continue
        lf = layers[f]
        if (m.group(1) == "<" and re.match(r"(sanitizer|valgrind)/", m.group(2))
                and lf and lf[0] <= SEAM_TOP and lf[1] != "seam"):
            bad.append("layers: TOOL %s (%d %s) includes <%s>: the library reaches the tools "
                       "through oblique/bits/track.h only" % (f, lf[0], lf[1], m.group(2)))
        t = resolve(f, m.group(2), m.group(1) == "<")
        if t is None or t not in layers:
            continue
        edges[f].append(t)
        nedges += 1
        lf, lt = layers[f], layers[t]
        if lf and lt and lt[0] > lf[0]:
            bad.append("layers: UPWARD %s (%d %s) includes %s (%d %s)" %
                       (f, lf[0], lf[1], t, lt[0], lt[1]))

# Cycles: depth-first search, reporting each back edge's cycle once.
WHITE, GREY, BLACK = 0, 1, 2
color = {f: WHITE for f in files}
seen = set()
sys.setrecursionlimit(10000)
def dfs(u, stack):
    color[u] = GREY
    stack.append(u)
    for v in edges[u]:
        if color[v] == GREY:
            cyc = stack[stack.index(v):] + [v]
            key = frozenset(cyc)
            if key not in seen:
                seen.add(key)
                bad.append("layers: CYCLE " + " -> ".join(cyc))
        elif color[v] == WHITE:
            dfs(v, stack)
    stack.pop()
    color[u] = BLACK
for f in files:
    if color[f] == WHITE:
        dfs(f, [])

if bad:
    print("\n".join(bad), file=sys.stderr)
    print("layers: %d problem(s); the order is docs/layers.md" % len(bad), file=sys.stderr)
    sys.exit(1)
print("layers: %d files, %d includes, %d layers: no upward include, no cycle" %
      (len(files), nedges, len(rows)))
PY
