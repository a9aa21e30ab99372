#!/usr/bin/env bash
# Re-fetch the vendored ECharts from the npm registry and check it against the pinned checksum.
set -euo pipefail
VERSION=6.1.0
SHA=61f13280aba3161f77fc801bf5f9c786f55f10432153a0683fc5cc0700b013d5
DEST="$(cd "$(dirname "$0")/.." && pwd)/bot/workbench/static/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "echarts@$VERSION" >/dev/null && tar xzf "echarts-$VERSION.tgz")
echo "$SHA  $tmp/package/dist/echarts.common.min.js" | sha256sum -c -
cp "$tmp/package/dist/echarts.common.min.js" "$DEST/echarts-$VERSION.common.min.js"
cp "$tmp/package/LICENSE" "$DEST/ECHARTS-LICENSE"
cp "$tmp/package/NOTICE" "$DEST/ECHARTS-NOTICE"
