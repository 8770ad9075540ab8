#!/usr/bin/env bash
# Rebuild the vendored web assets in src/svduty/web/static/vendor from the npm registry.
# Run by hand when upgrading; the results are committed, so svduty needs no network at run time.
# GOV.UK Frontend is compiled from its Sass with a system font: its GDS Transport font and the
# crown are for GOV.UK services only.
set -euo pipefail
GOVUK=6.6.0 LEAFLET=1.9.4 HTMX=2.0.8 SASS=1.108.2
dest="$(cd "$(dirname "$0")/.." && pwd)/src/svduty/web/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent "sass@$SASS" "govuk-frontend@$GOVUK" "leaflet@$LEAFLET" "htmx.org@$HTMX"
cat > svduty-govuk.scss <<'SCSS'
$govuk-font-family: arial, sans-serif;
$govuk-include-default-font-face: false;
$govuk-assets-path: "/static/vendor/govuk-frontend/assets/";
@import "node_modules/govuk-frontend/dist/govuk/index";
SCSS
rm -rf "$dest" && mkdir -p "$dest"/{govuk-frontend/assets/images,leaflet/images,htmx}
npx sass --no-source-map --style=compressed --quiet-deps --silence-deprecation=import \
  svduty-govuk.scss "$dest/govuk-frontend/govuk-frontend.min.css"
g=node_modules/govuk-frontend/dist/govuk
cp "$g/govuk-frontend.min.js" "$dest/govuk-frontend/"
cp "$g/assets/images/favicon.ico" "$g/assets/images/favicon.svg" "$dest/govuk-frontend/assets/images/"
cp node_modules/leaflet/dist/leaflet.{js,css} node_modules/leaflet/LICENSE "$dest/leaflet/"
cp node_modules/leaflet/dist/images/* "$dest/leaflet/images/"
cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx.org/LICENSE "$dest/htmx/"
echo "Vendored govuk-frontend $GOVUK, leaflet $LEAFLET, htmx $HTMX into $dest"
