#!/usr/bin/env bash
# docs/deploy.md, tried end to end on this machine: everything a newcomer does on a fresh Debian machine
# with PostgreSQL, except that systemd's and Caddy's own service managers are replaced by starting the
# units' commands (and Caddy, when installed) in the background, and WeChat's servers by a small local
# stand-in. Run from the checkout:
#   deploy/trial.sh                      # a fresh venv (pip downloads everything: slow)
#   VENV=.venv deploy/trial.sh           # the checkout's venv (what `make test` does)
# Environment: PSQL (how to reach PostgreSQL as a superuser, default "psql -h 127.0.0.1 -U postgres"),
# TRIAL_ROLE and TRIAL_DB (default lianhu_trial, lianhu_trial: dropped and made anew), KEEP=1 to keep
# the databases and the work folder afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD
export PSQL=${PSQL:-psql -h 127.0.0.1 -U postgres}
role=${TRIAL_ROLE:-lianhu_trial}
db=${TRIAL_DB:-lianhu_trial}
work=$(mktemp -d /tmp/lianhu-trial.XXXXXX)
started=$(date +%s)
pids=()
step() { printf "\n== %s  (+%ss)\n" "$*" "$(( $(date +%s) - started ))"; }
fail() { echo "TRIAL FAILED: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done; exit 1; }
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" != 1 ]; then
    $PSQL -X -q -c "DROP DATABASE IF EXISTS \"$db\"" -c "DROP DATABASE IF EXISTS \"${db}_restore\"" \
      -c "DROP ROLE IF EXISTS \"$role\"" >/dev/null 2>&1 || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

step "1. Install: a virtualenv with Lianhu and its pinned dependencies"
if [ -n "${VENV:-}" ]; then
  py=$(cd "$VENV" && pwd)/bin/python
else
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q -c constraints.txt -e .
  py=$work/venv/bin/python
  "$py" -m nlu train --if-stale && "$py" -m voice setup
fi
"$py" -c 'import bot, prometheus_client' || fail "the venv does not have Lianhu installed"

step "2. PostgreSQL: a role and a database (deploy/setup-postgres.sh), and an empty one to restore into"
$PSQL -X -q -c "DROP DATABASE IF EXISTS \"$db\"" -c "DROP DATABASE IF EXISTS \"${db}_restore\"" >/dev/null
url_line=$(LIANHU_DB_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))') deploy/setup-postgres.sh "$role" "$db")
url=${url_line#LIANHU_DATABASE_URL=}
$PSQL -X -q -c "CREATE DATABASE \"${db}_restore\" OWNER \"$role\"" >/dev/null
echo "database: ${url%%:*}://$role:…@${url#*@}"

step "3. The environment file (deploy/lianhu.env.example), read as systemd's EnvironmentFile= reads it"
port=$(free_port); tls_port=$(free_port); api_port=$(free_port)
cat > "$work/lianhu.env" <<EOF
LIANHU_DATABASE_URL=$url
LIANHU_SERVER_WORKERS=2
LIANHU_SERVER_PORT=$port
LIANHU_SERVER_PUBLIC_URL=https://localhost:$tls_port
LIANHU_CHANNELS_ENABLED=web,wechat
LIANHU_WECHAT_TOKEN=trialtoken
LIANHU_WECHAT_APP_ID=wxtrial0000000000
LIANHU_WECHAT_APP_SECRET=trialsecret
LIANHU_WECHAT_API_BASE_URL=http://127.0.0.1:$api_port
LIANHU_METRICS_TOKEN=trial-metrics-token
LIANHU_LOGGING_FORMAT=json
LIANHU_PATHS_VAR_DIR=$work/var
LIANHU_PATHS_RECORDINGS=$work/var/recordings
LIANHU_BACKUP_DIR=$work/var/backups
EOF
set -a; . "$work/lianhu.env"; set +a

step "4. Migrate (serve also does it when it starts) and ask the doctor"
"$py" -m bot migrate || fail "migrate"
"$py" -m bot doctor | tee "$work/doctor.txt" || fail "doctor found a problem"

step "5. The community's registry, and invitation codes for a leader and a resident"
cat > "$work/registry.csv" <<'EOF'
网格,联户单元,栋,单元,室,姓名,电话,出生年,独居,语音,角色
G1,一单元,1,1,101,王秀英,13600009101,1950,是,否,
G1,一单元,1,1,102,张桂芳,13600009102,1975,否,否,联户长
G1,一单元,1,2,201,刘建华,13600009201,1982,否,否,网格员
EOF
"$py" -m bot import "$work/registry.csv" || fail "import"
leader_code=$("$py" -m bot invite --phone 13600009102)
resident_code=$("$py" -m bot invite --phone 13600009101)

step "6. Start what the units start: the server (2 workers), a dispatcher, WeChat's stand-in, Caddy"
"$py" - "$api_port" > "$work/wechat-api.log" 2>&1 <<'EOF' &
# WeChat's API as far as Lianhu uses it here: an access token, and customer-service messages (logged).
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        self.answer({"access_token": "TRIAL_TOKEN", "expires_in": 7200})
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        print(json.dumps({"path": self.path.split("?")[0], "body": json.loads(body or b"{}")}, ensure_ascii=False), flush=True)
        self.answer({"errcode": 0, "errmsg": "ok"})
    def answer(self, value):
        data = json.dumps(value).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Api).serve_forever()
EOF
pids+=($!)
start_server() { "$py" -m bot serve >> "$work/server.log" 2>&1 & server_pid=$!; pids+=("$server_pid"); }
start_server
"$py" -m bot dispatch > "$work/dispatch.log" 2>&1 &
pids+=($!)
wait_healthy() {
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done
  fail "the server did not answer /healthz"
}
wait_healthy
base=http://127.0.0.1:$port
curl_tls=(curl -sS)
if command -v caddy >/dev/null; then
  mkdir -p "$work/caddy"
  { printf '{\n\tadmin off\n\tskip_install_trust\n\thttp_port %s\n}\n' "$(free_port)"
    sed -e "s#^lianhu.example.org {#https://localhost:$tls_port {\n\ttls internal#" \
        -e "s#127.0.0.1:8080#127.0.0.1:$port#" -e "s#/var/log/caddy/lianhu.log#$work/caddy/access.log#" deploy/Caddyfile
  } > "$work/Caddyfile"
  XDG_DATA_HOME=$work/caddy XDG_CONFIG_HOME=$work/caddy caddy run --config "$work/Caddyfile" --adapter caddyfile > "$work/caddy.log" 2>&1 &
  pids+=($!)
  ca=$work/caddy/caddy/pki/authorities/local/root.crt
  for _ in $(seq 1 100); do [ -f "$ca" ] && curl -sf --cacert "$ca" "https://localhost:$tls_port/healthz" >/dev/null && break; sleep 0.2; done
  base=https://localhost:$tls_port
  curl_tls=(curl -sS --cacert "$ca")
  [ "$("${curl_tls[@]}" -o /dev/null -w '%{http_code}' "$base/metrics")" = 404 ] || fail "/metrics is reachable through the proxy"
  echo "through Caddy with TLS: $base"
else
  echo "caddy is not installed: turns go straight to $base"
fi

step "7. Residents and the leader talk on WeChat (signed webhook posts, through the proxy)"
echo 9000 > "$work/msg_id"
next_id() { local id; id=$(( $(cat "$work/msg_id") + 1 )); echo "$id" > "$work/msg_id"; echo "$id"; }
wechat() {  # wechat OPENID TEXT [MSGID] -> the passive reply's text (each message a new MsgId)
  local openid=$1 text=$2 id=${3:-$(next_id)} ts nonce sig
  ts=$(date +%s); nonce=n$id
  sig=$(printf '%s\n' "$LIANHU_WECHAT_TOKEN" "$ts" "$nonce" | LC_ALL=C sort | tr -d '\n' | sha1sum | cut -d' ' -f1)
  "${curl_tls[@]}" --retry 5 --retry-connrefused --max-time 20 "$base/wechat?signature=$sig&timestamp=$ts&nonce=$nonce&openid=$openid" \
    --data-binary "<xml><ToUserName><![CDATA[gh_trial]]></ToUserName><FromUserName><![CDATA[$openid]]></FromUserName><CreateTime>$ts</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[$text]]></Content><MsgId>$id</MsgId></xml>" \
    | "$py" -c 'import sys, xml.etree.ElementTree as ET; raw = sys.stdin.read(); print(ET.fromstring(raw).findtext("Content") or "" if raw.startswith("<") else "")'
}
say() { local out; out=$(wechat "$@"); echo "  $1: $2 -> ${out//$'\n'/ | }" >&2; printf '%s' "$out"; }
say oTrialLeader "$leader_code" | grep -q "我的任务" || fail "the leader's code did not bind"
say oTrialResident "$resident_code" | grep -q "绑定成功" || fail "the resident's code did not bind"
say oTrialResident "我家水管漏水了" | grep -q "对吗" || fail "the report was not read back"
ticket=$(say oTrialResident "1" | grep -o '单号 [0-9]\{6\}' | grep -o '[0-9]\{6\}') || fail "no ticket number"
confirm_id=$(cat "$work/msg_id")
for _ in $(seq 1 100); do grep -q "$ticket" "$work/wechat-api.log" && break; sleep 0.2; done
grep -q "oTrialLeader.*$ticket" "$work/wechat-api.log" || fail "the leader's task was not delivered"
say oTrialLeader "接单 $ticket" | grep -q "已接单" || fail "the leader could not take the task"

metrics=$(curl -sf -H "Authorization: Bearer $LIANHU_METRICS_TOKEN" "http://127.0.0.1:$port/metrics") || fail "/metrics"
grep -E '^lianhu_turns_total\{action="report.commit",channel="wechat"\} 1' <<<"$metrics" >/dev/null || fail "turn counter: $(grep turns_total <<<"$metrics")"

step "8. An upgrade: the server restarts (SIGTERM, migrations on start) between two messages"
restart_at=$(date +%s.%N)
( sleep 0.5; say oTrialResident "我报的事情咋样了" > "$work/during-restart.txt" ) &  # sent while restarting
during=$!
kill -TERM "$server_pid"; wait "$server_pid" || fail "the server did not stop cleanly"
start_server  # migrates, then starts its workers
wait "$during"
grep -q "$ticket" "$work/during-restart.txt" || fail "the message sent during the restart: $(cat "$work/during-restart.txt")"
echo "answered $(python3 -c "import time; print(round(time.time() - $restart_at, 1))") s after the restart began"
again=$(wechat oTrialResident "1" "$confirm_id")  # WeChat re-posting the confirmation after the restart
grep -q "单号 $ticket" <<<"$again" || fail "a re-posted message was not answered from the log: $again"
for _ in $(seq 1 100); do grep -q "oTrialResident.*$ticket" "$work/wechat-api.log" && break; sleep 0.2; done
grep -q "oTrialResident.*$ticket" "$work/wechat-api.log" || fail "the resident was not told the task was taken"

step "9. Metrics (token) and the doctor with everything running"
# Counters start again with the new processes (Prometheus reads that as a restart).
metrics=$(curl -sf -H "Authorization: Bearer $LIANHU_METRICS_TOKEN" "http://127.0.0.1:$port/metrics") || fail "/metrics"
grep -E '^lianhu_turns_total\{action="duplicate",channel="wechat"\} 1' <<<"$metrics" >/dev/null || fail "turn counter: $(grep turns_total <<<"$metrics")"
grep -E '^lianhu_outbox_pending 0' <<<"$metrics" >/dev/null || fail "outbox not drained"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" = 401 ] || fail "/metrics without the token"
"$py" -m bot doctor > "$work/doctor-running.txt" || fail "doctor: $(cat "$work/doctor-running.txt")"
grep -q '"turn_id"' "$work/server.log" || fail "no JSON turn lines in the server's log"

step "10. Back up while serving, restore into the empty database, compare"
"$py" -m bot backup "$work/backup.tar.gz" || fail "backup"
"$py" -m bot backup | tee "$work/backup-dated.txt" >/dev/null || fail "dated backup"
ls "$LIANHU_BACKUP_DIR"/lianhu-*.tar.gz >/dev/null || fail "no dated backup in backup.dir"
LIANHU_DATABASE_URL=${url%/*}/${db}_restore "$py" -m bot restore "$work/backup.tar.gz" || fail "restore"
restored=$($PSQL -X -tA -d "${db}_restore" -c "SELECT status FROM tickets WHERE public_no = '$ticket'")
[ "$restored" = accepted ] || fail "ticket $ticket restored as '$restored'"
for table in tickets ticket_events outbox processed_messages identities; do
  a=$($PSQL -X -tA -d "$db" -c "SELECT count(*) FROM $table"); b=$($PSQL -X -tA -d "${db}_restore" -c "SELECT count(*) FROM $table")
  [ "$a" = "$b" ] || fail "$table: $a rows, $b restored"
done

step "11. Stop: the server and the dispatcher end on SIGTERM"
kill -TERM "$server_pid"; wait "$server_pid" || fail "server exit status"
echo "TRIAL PASSED in $(( $(date +%s) - started )) s: ticket $ticket filed over WeChat${ca:+ through Caddy (TLS)}, delivered, taken, survived a restart, backed up and restored"
