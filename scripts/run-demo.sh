#!/usr/bin/env bash
# The main job: generate and load the demo partnership, then show what is loaded.
set -euo pipefail
data_dir=$1
svduty=".venv/bin/svduty"
export COLUMNS="${COLUMNS:-$(tput cols 2>/dev/null || echo 120)}"
echo "== The demo partnership: a synthetic county, generated and loaded feed by feed"
$svduty --data-dir "$data_dir" demo --seed 1
echo "== svduty status"
$svduty --data-dir "$data_dir" status
cat <<MSG

Where to look:
  the warehouse        $data_dir/warehouse.duckdb (svduty --data-dir $data_dir status --json)
  quarantined rows     svduty --data-dir $data_dir quarantine
  what was planted     $data_dir/demo.json
  the sealed identifiers (linkage store) $data_dir/linkage/; keys are kept outside, in ~/.config/svduty/keys
  real public data     make real (loads ../shared/data into svduty-real)
MSG
