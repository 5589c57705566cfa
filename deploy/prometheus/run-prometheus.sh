#!/usr/bin/env bash
# Run Prometheus on this folder's scrape config and rules, keeping 30 days of metrics.
#   deploy/prometheus/run-prometheus.sh [DATA_DIR] [extra prometheus flags...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${1:-$here/../../.prometheus-data}"
shift || true
exec prometheus \
  --config.file="$here/prometheus.yml" \
  --storage.tsdb.path="$data" \
  --storage.tsdb.retention.time=30d \
  --web.listen-address=127.0.0.1:9090 \
  "$@"
