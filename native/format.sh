#!/usr/bin/env bash
# clang-format over the C/C++ sources (native/**/*.{h,cc}, bench/*.c) in the style of the
# repository's .clang-format.
#   bash native/format.sh [FILE...]          reformat in place (npm run format)
#   bash native/format.sh --check [FILE...]  change nothing; exit 1 naming the files that are not
#                                            formatted (npm run lint)
# Without FILEs, every source. CLANG_FORMAT picks the binary (default: clang-format on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

check=0
if [ "${1-}" = --check ]; then check=1; shift; fi
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null; then
  echo "native/format.sh: $cf not found (Debian: apt-get install clang-format)" >&2
  exit 1
fi

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(native/**/*.h native/**/*.cc bench/*.c)

if [ "$check" = 0 ]; then
  "$cf" -i --style=file "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$cf" --dry-run -Werror --ferror-limit=1 --style=file "$f" 2>/dev/null || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "native/format.sh: not formatted ($("$cf" --version | sed 's/.*version \([^ ]*\).*/clang-format \1/')): ${bad[*]}" >&2
  echo "  to fix: npm run format (or bash native/format.sh FILE...)" >&2
  exit 1
fi
