#!/usr/bin/env bash
# Install the system packages svduty needs when they are missing (Java for Spark).
set -euo pipefail
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing ${need[*]} with apt-get..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "svduty needs: ${need[*]} (install them with your package manager)" >&2
    exit 1
  fi
fi
