# ci/targets.sh — sourced by the ci/ scripts: which fuzz targets a run covers.
#   select_targets ME "a,b,..."   (empty: every target)
# fills the arrays `all` (targets/targets.list entries whose targets/<t>.c exists, as
# targets/CMakeLists.txt builds them) and `targets` (the selection); an unknown name is
# a usage error (exit 2).
select_targets() {
  local me=$1 only=$2 t
  mapfile -t all < <(grep -E '^[a-z0-9_]+$' targets/targets.list)
  local listed=("${all[@]}")
  all=()
  for t in "${listed[@]}"; do
    if [ -f "targets/$t.c" ]; then all+=("$t"); else echo "$me: note: targets/$t.c does not exist: $t skipped" >&2; fi
  done
  targets=()
  if [ -n "$only" ]; then
    local want
    IFS=, read -r -a want <<<"$only"
    for t in "${want[@]}"; do
      printf '%s\n' "${all[@]}" | grep -qx "$t" || { echo "$me: unknown target '$t' (targets: ${all[*]})" >&2; exit 2; }
      targets+=("$t")
    done
  else
    targets=("${all[@]}")
  fi
}
