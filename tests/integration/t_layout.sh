#!/usr/bin/env bash
# The layout keeps the architecture honest (issue 10):
#  - a private header (any .h under src/) is included only from its own
#    folder (and its subfolders) and from tests; never from a public
#    header in include/pagegate/;
#  - its top comment names truthfully who includes it: each includer in
#    src/ by file name, or the folder they are in;
#  - the daemon links no code of the CLI (src/cli/);
#  - no source file is over 800 lines without a reason at its top (a line
#    "Why this file is long: ..." in its first comment).
# Static checks on the tree and the built binaries; no peers.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

# Every #include "..." of the tree that names one of its files, as
# "FILE<TAB>INCLUDER" (FILE resolved from the includer's folder), read once.
$PY - "$ROOT" >"$T/incmap" <<'PYEOF'
import os, re, sys
os.chdir(sys.argv[1])
for top in ('src', 'include', 'tests'):
    for d, _, names in os.walk(top):
        for n in names:
            if not n.endswith(('.c', '.h')):
                continue
            f = os.path.join(d, n)
            for line in open(f, errors='replace'):
                m = re.match(r'#include "([^"]*)"', line)
                if m and os.path.isfile(os.path.join(d, m.group(1))):
                    print(os.path.normpath(os.path.join(d, m.group(1))) + '\t' + f)
PYEOF

bad_includes=""; bad_comments=""
while IFS= read -r h; do
  dir=$(dirname "$h")
  top=$(awk 'NR==1 && !/^\/\*/ {exit} {print} /\*\// {exit}' "$h")
  awk -F'\t' -v h="$h" '$1 == h {print $2}' "$T/incmap" | sort -u >"$T/includers"
  while IFS= read -r f; do
    case $f in
      tests/*) continue ;;
      include/*) bad_includes+="$f includes the private $h"$'\n'; continue ;;
      "$dir"/*) ;;
      *) bad_includes+="$f includes $h from outside $dir/"$'\n' ;;
    esac
    name=$(basename "$f")
    if ! grep -qF "$name" <<<"$top" && ! grep -qF "$(dirname "$f")/" <<<"$top"; then
      bad_comments+="$h does not name its includer $f"$'\n'
    fi
  done <"$T/includers"
done < <(find src -name '*.h' | sort)
check_eq "private headers are included only from their own folder (and tests)" "" "$bad_includes"
check_eq "each private header's top comment names who includes it" "" "$bad_comments"

long=""
while IFS= read -r f; do
  n=$(wc -l <"$f")
  if [ "$n" -gt 800 ] && ! head -40 "$f" | grep -q "Why this file is long:"; then
    long+="$f ($n lines)"$'\n'
  fi
done < <(find src include -name '*.[ch]' | sort)
check_eq "no source file over 800 lines without a reason at its top" "" "$long"

# Every global symbol the CLI's objects define, none of which may be in
# the daemon.
cli_syms=$(nm --defined-only -g "$BUILD"/obj/cli/*.o 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
check "the CLI's objects define symbols (the check can fail)" test -n "$cli_syms"
daemon_syms=$(nm --defined-only -g "$BUILD/pagegated" | awk 'NF == 3 {print $3}' | sort -u)
check_eq "the daemon links none of the CLI's code" "" \
  "$(comm -12 <(printf '%s\n' "$cli_syms" | grep -vx main) <(printf '%s\n' "$daemon_syms"))"
check "nor is any CLI object in the library" bash -c "! ar t '$BUILD/libpagegate.a' | grep -qE '^(pagegate|cli_)'"
