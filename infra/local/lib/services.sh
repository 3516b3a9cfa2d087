# The four Tessera services as background processes of the local platform, logs in .local/logs.

SERVICES=(auth-service device-registry recovery-orchestrator audit-service)
declare -A SERVICE_PORT=([auth-service]=3101 [device-registry]=3102 [recovery-orchestrator]=3103 [audit-service]=3104)
declare -A SERVICE_DB=([auth-service]=tessera_auth [device-registry]=tessera_devices [recovery-orchestrator]=tessera_recovery [audit-service]=tessera_audit)

MAILBOX_DIR="$TESSERA_LOCAL/mail"

service_env() {
  local name=$1
  echo "HTTP_PORT=${SERVICE_PORT[$name]}" \
       "DATABASE_URL=postgres://$PG_USER_NAME:$PG_PASSWORD@127.0.0.1:$TESSERA_PG_PORT/${SERVICE_DB[$name]}" \
       "KAFKA_BROKERS=127.0.0.1:$TESSERA_KAFKA_PORT" \
       "TEMPORAL_ADDRESS=127.0.0.1:$TESSERA_TEMPORAL_PORT" \
       "TEMPORAL_NAMESPACE=$TEMPORAL_NAMESPACE" \
       "AUTH_JWKS_JSON=$DEV_ISSUER_JWKS" \
       "AUTH_SERVICE_TOKEN_FILE=$TESSERA_LOCAL/dev-issuer/$name.token"
  # Mail goes to the local mailbox (read it with `infra/local/platform mail`); recoveries run under the
  # local policy, whose cooling-off is the shortest a policy may set (1 h) and whose restricted period
  # is 10 min, so that a whole recovery can be walked through in an afternoon.
  case $name in
    auth-service) echo "AUTH_SMTP_URL=smtp://127.0.0.1:$TESSERA_SMTP_PORT?security=none" ;;
    recovery-orchestrator)
      echo "SMTP_HOST=127.0.0.1" "SMTP_PORT=$TESSERA_SMTP_PORT" "SMTP_SECURITY=none" "SMTP_FROM=security@tessera.localhost" \
           "RECOVERY_POLICY_FILE=$TESSERA_ROOT/infra/local/policies/local.json" "RECOVERY_POLICY_VERSION=local-1" ;;
  esac
}

mailbox_start() {
  local pidfile="$TESSERA_LOCAL/run/mailbox.pid"
  if pid_alive "$pidfile"; then return; fi
  port_busy "$TESSERA_SMTP_PORT" && die "port $TESSERA_SMTP_PORT (local mailbox) is taken by another process"
  log "starting the local mailbox (SMTP) on 127.0.0.1:$TESSERA_SMTP_PORT"
  (cd "$TESSERA_ROOT" && exec node $TESSERA_NODE_FLAGS -r @swc-node/register infra/local/scripts/mail-sink.ts serve "$TESSERA_SMTP_PORT" "$MAILBOX_DIR") \
    >"$TESSERA_LOCAL/logs/mailbox.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_for mailbox 60 port_busy "$TESSERA_SMTP_PORT" || { tail -20 "$TESSERA_LOCAL/logs/mailbox.log" >&2; die "the local mailbox did not start"; }
}

mailbox_list() { (cd "$TESSERA_ROOT" && node $TESSERA_NODE_FLAGS -r @swc-node/register infra/local/scripts/mail-sink.ts list "$MAILBOX_DIR" "${1:-5}"); }

service_ready() { curl -fsS "http://127.0.0.1:${SERVICE_PORT[$1]}/health/ready" >/dev/null 2>&1; }

services_start() {
  mkdir -p "$TESSERA_LOCAL/logs" "$TESSERA_LOCAL/run"
  # Local services trust the development token issuer (infra/local/scripts/dev-issuer.ts), and each
  # calls the others with a token of its own (role service), re-minted on every start.
  DEV_ISSUER_JWKS=$(cd "$TESSERA_ROOT" && node -r @swc-node/register infra/local/scripts/dev-issuer.ts service-tokens "${SERVICES[@]}") \
    || die "could not create the development token issuer's key and the services' tokens"
  mailbox_start
  local name
  for name in "${SERVICES[@]}"; do
    local pidfile="$TESSERA_LOCAL/run/$name.pid"
    if pid_alive "$pidfile"; then log "$name already running"; continue; fi
    port_busy "${SERVICE_PORT[$name]}" && die "port ${SERVICE_PORT[$name]} ($name) is taken by another process"
    log "starting $name on 127.0.0.1:${SERVICE_PORT[$name]}"
    # exec, so that the recorded pid is the service's own and SIGTERM reaches it.
    # shellcheck disable=SC2046
    (cd "$TESSERA_ROOT" && exec env $(service_env "$name") node $TESSERA_NODE_FLAGS -r @swc-node/register "apps/$name/src/main.ts") \
      >"$TESSERA_LOCAL/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
  done
  for name in "${SERVICES[@]}"; do
    wait_for "$name" 120 service_ready "$name" \
      || { tail -20 "$TESSERA_LOCAL/logs/$name.log" >&2; die "$name did not become ready in 120 s (log: .local/logs/$name.log)"; }
  done
}

services_stop() {
  local name
  for name in "${SERVICES[@]}"; do stop_pidfile "$name" "$TESSERA_LOCAL/run/$name.pid"; done
  stop_pidfile mailbox "$TESSERA_LOCAL/run/mailbox.pid"
}
