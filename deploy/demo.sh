#!/usr/bin/env bash
# The demo behind `make demo`: serve the model repository on 127.0.0.1, answer
# a few real calls, then keep serving until Ctrl-C (DEMO_EXIT=1 stops after
# the calls, for scripted runs).
set -euo pipefail
REPO=${REPO:-model_repository}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-50051}
METRICS_PORT=${METRICS_PORT:-9090}
TARGET="$HOST:$PORT"
LOG=$(mktemp -t seqserve-demo.XXXXXX.log)

seqserve serve --model-repository "$REPO" --host "$HOST" --port "$PORT" \
  --metrics-port "$METRICS_PORT" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
  grep -q "seqserve listening on" "$LOG" && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG"; echo "server exited" >&2; exit 1; }
  sleep 0.5
done
grep -q "seqserve listening on" "$LOG" || { cat "$LOG"; echo "server did not start" >&2; exit 1; }
grep -E "READY|listening" "$LOG"

echo
echo "== Translate, beam 5, 3-best =="
seqserve client translate --target "$TARGET" --model en-fr --beam-size 5 --n-best 3 \
  "Click the OK button to close the dialog." \
  "Select the cells that you want to format."
echo
echo "== Translate, greedy =="
seqserve client translate --target "$TARGET" --model en-fr --beam-size 1 \
  "Choose Format - Cells and click the Font tab."
echo
echo "== TranslateStream (partial hypotheses on stderr, final on stdout) =="
seqserve client translate --target "$TARGET" --model en-fr --beam-size 4 --stream \
  "To insert a new sheet, right-click a sheet tab."
echo
echo "== Tag (BiLSTM part-of-speech tagger, Turkish UD treebank) =="
seqserve client tag --target "$TARGET" --model tagger --top-k 2 \
  "Bu kitap çok güzel ." "Ankara Türkiye'nin başkentidir ."
echo
echo "== Caption (CNN+LSTM captioner, beam 5, on held-out rendered scenes) =="
SCENES=$(mktemp -d -t seqserve-scenes.XXXXXX)
python3 -m seqserve.models.data.scenes --out "$SCENES" --count 2 | sed 's/^/reference: /'
seqserve client caption --target "$TARGET" --model captioner --beam-size 5 --n-best 2 \
  "$SCENES"/scene0.png "$SCENES"/scene1.png
echo
echo "== Streaming session: character LSTM, three chunks of typing =="
printf 'Click\n the \nOK butt\n' | seqserve client stream --target "$TARGET" --model charlm --text --top-k 3 -
echo
echo "== Streaming session: CO2 forecaster, weekly readings in two chunks =="
printf '315.7 317.5 317.6\n318.1 318.4\n' | seqserve client stream --target "$TARGET" --model co2 -
echo
echo "== Metrics (http://$HOST:$METRICS_PORT/metrics) =="
python3 - "$HOST" "$METRICS_PORT" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/metrics", timeout=5).read().decode()
for line in text.splitlines():
    if line.startswith(("seqserve_requests_total", "seqserve_decode_step_seconds_count",
                        "seqserve_decode_batch_rows_sum", "seqserve_live_sessions")):
        print(line)
PY

if [ "${DEMO_EXIT:-0}" = "1" ]; then
  exit 0
fi
echo
echo "Serving on $TARGET (metrics on :$METRICS_PORT). Try:"
echo "  seqserve client translate --target $TARGET --model en-fr --beam-size 4 \"Open the Tools menu.\""
echo "Ctrl-C stops the server."
wait $SERVER
