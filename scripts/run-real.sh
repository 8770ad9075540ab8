#!/usr/bin/env bash
# Load the real public data (reference files and police.uk) read in place, show status, then
# write the Strategic Needs Assessment.
set -euo pipefail
data_dir=$1
shared=$2
svduty=".venv/bin/svduty"
export COLUMNS="${COLUMNS:-$(tput cols 2>/dev/null || echo 120)}"
if [ ! -d "$shared/policeuk" ]; then
  cat <<MSG
No public data folder at $shared.
svduty loads reference data and police.uk files laid out as they are published:
  $svduty --data-dir $data_dir reference load DIR        (DIR/geography, lookups, population, imd)
  $svduty --data-dir $data_dir ingest police-uk PATH...  (police.uk CSVs, folders or archive .zip)
  $svduty --data-dir $data_dir status
Run 'make real SHARED=DIR' to use another folder.
MSG
  exit 0
fi
echo "== Loading reference data from $shared"
$svduty --data-dir "$data_dir" reference load "$shared"
echo "== Loading police.uk files from $shared/policeuk"
$svduty --data-dir "$data_dir" ingest police-uk "$shared/policeuk" | tail -n 4
echo "== svduty status"
$svduty --data-dir "$data_dir" status
echo "== The Strategic Needs Assessment of the real data"
$svduty --data-dir "$data_dir" sna --out "$data_dir/sna"
$svduty --data-dir "$data_dir" sna --public --out "$data_dir/sna-public"
echo "Open $data_dir/sna/report.html (and $data_dir/sna-public/report.html, the public version)."
