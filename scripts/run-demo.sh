#!/usr/bin/env bash
# The main job: generate and load the demo partnership, show what is loaded, write its
# Strategic Needs Assessment (full and public), the forecast, a funding round, the evaluation of
# the planted projects and the monitoring report, then serve the web platform
# (set SVDUTY_NO_SERVE=1 to stop before it; SVDUTY_PORT chooses the port, default 8000).
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
echo "== Commissioning: the interventions register, with the evidence for each approach"
$svduty --data-dir "$data_dir" interventions list
echo "== The 2026/27 funding round: a recommendation by need, evidence and cost (600,000 pounds)"
$svduty --data-dir "$data_dir" funding allocate --round 2026/27 --budget 600000 \
  --minimum-per-area 30000
echo "== Did it work? The Eastbrook youth violence programme's area, the Northam mentoring"
echo "   programme's participants (both planted in the synthetic partnership)"
$svduty --data-dir "$data_dir" evaluate area --intervention EB-YVP-25
$svduty --data-dir "$data_dir" evaluate cohort --intervention NM-MEN-24
echo "== The quarterly monitoring report for the Police and Crime Commissioner"
$svduty --data-dir "$data_dir" monitoring report --out "$data_dir/monitoring"
echo "== Demo users for the web platform (one per role; the demo's data are synthetic)"
pw_file="${HOME}/.config/svduty/demo-password"
mkdir -p "$(dirname "$pw_file")"
if [ ! -s "$pw_file" ]; then
  (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))' >"$pw_file")
fi
pw="$(cat "$pw_file")"
for user in "demo-analyst analyst police" "demo-uploader partner_data_officer police" \
  "demo-commissioner commissioner council" "demo-dpo dpo council" "demo-admin admin police"; do
  set -- $user
  printf '%s\n' "$pw" | $svduty --data-dir "$data_dir" users create "$1" --role "$2" --org "$3" \
    >/dev/null 2>&1 || printf '%s\n' "$pw" | $svduty --data-dir "$data_dir" users password "$1" >/dev/null
  echo "  $1 ($2, $3)"
done
port="${SVDUTY_PORT:-8000}"
cat <<MSG

Where to look:
  the needs assessment $data_dir/sna/report.html (report.pdf, figures.json beside it)
  the public version   $data_dir/sna-public/report.html (disclosure control applied)
  monitoring (PCC)     $data_dir/monitoring/ (HTML and PDF; svduty monitoring report --quarter)
  evaluation plots     $data_dir/evaluations/ (event studies of svduty evaluate area)
  the warehouse        $data_dir/warehouse.duckdb (svduty --data-dir $data_dir status --json)
  quarantined rows     svduty --data-dir $data_dir quarantine
  what was planted     $data_dir/demo.json
  the sealed identifiers (linkage store) $data_dir/linkage/; keys are kept outside, in ~/.config/svduty/keys
  real public data     make real (loads ../shared/data into svduty-real)

The web platform: http://127.0.0.1:$port/ (the public view; the dashboard after signing in)
  sign in at http://127.0.0.1:$port/login as demo-analyst (or demo-uploader, demo-commissioner,
  demo-dpo, demo-admin) with the password in $pw_file: $pw
MSG
if [ "${SVDUTY_NO_SERVE:-}" = 1 ]; then
  exit 0
fi
echo "== svduty serve (Ctrl-C stops it)"
exec $svduty --data-dir "$data_dir" serve --port "$port"
