#!/bin/sh
# Runs repin.py on the host's python3 (any version): the pinned interpreter may be the
# one that no longer downloads, so this target must not need it.
here="$(dirname "$0")"
for script in "$here/repin.py" "$0.runfiles/_main/tools/python/repin.py"; do
  [ -f "$script" ] && exec python3 "$script" "$@"
done
echo "repin: repin.py not found beside $0" >&2
exit 1
