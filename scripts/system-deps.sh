#!/usr/bin/env bash
# Install the system packages svduty needs when they are missing: Java for Spark, Chromium to
# print the assessment to PDF (and for the browser tests).
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing ${need[*]} with apt-get..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "svduty needs: ${need[*]} (install them with your package manager)" >&2
    exit 1
  fi
fi
