#!/usr/bin/env bash
# The main job: generate and load the demo partnership, show what is loaded, then write its
# Strategic Needs Assessment (full and public) and the forecast.
set -euo pipefail
data_dir=$1
svduty=".venv/bin/svduty"
export COLUMNS="${COLUMNS:-$(tput cols 2>/dev/null || echo 120)}"
echo "== The demo partnership: a synthetic county, generated and loaded feed by feed"
$svduty --data-dir "$data_dir" demo --seed 1
echo "== svduty status"
$svduty --data-dir "$data_dir" status
echo "== People across agencies (linked by svduty demo, as svduty link does), for publication"
$svduty --data-dir "$data_dir" cohorts --public
echo "== The Strategic Needs Assessment, for the partnership and for publication"
$svduty --data-dir "$data_dir" sna --out "$data_dir/sna"
$svduty --data-dir "$data_dir" sna --public --out "$data_dir/sna-public"
echo "== Next month's expected serious violence by LSOA (top 20)"
$svduty --data-dir "$data_dir" forecast
cat <<MSG

Where to look:
  the needs assessment $data_dir/sna/report.html (report.pdf, figures.json beside it)
  the public version   $data_dir/sna-public/report.html (disclosure control applied)
  the warehouse        $data_dir/warehouse.duckdb (svduty --data-dir $data_dir status --json)
  quarantined rows     svduty --data-dir $data_dir quarantine
  what was planted     $data_dir/demo.json
  the sealed identifiers (linkage store) $data_dir/linkage/; keys are kept outside, in ~/.config/svduty/keys
  real public data     make real (loads ../shared/data into svduty-real)
MSG
