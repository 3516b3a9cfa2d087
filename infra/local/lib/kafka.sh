# Apache Kafka 4, single node, KRaft combined mode (broker + controller in one JVM), from Maven
# Central jars resolved by infra/local/kafka/pom.xml. Functions take an instance directory and ports so
# that tests which stop the broker on purpose can run their own instance beside the shared one.

KAFKA_LIBS="$TESSERA_LOCAL/kafka/libs"

ensure_java() {
  command -v java >/dev/null || die "Java ${JAVA_MIN_MAJOR}+ is required for Kafka: apt-get install -y openjdk-17-jre-headless"
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1)
  [ "${major:-0}" -ge "$JAVA_MIN_MAJOR" ] || die "Kafka 4 needs Java ${JAVA_MIN_MAJOR}+, found Java $major: apt-get install -y openjdk-17-jre-headless"
}

# ensure_kafka_libs — resolves the broker's jars with Maven when the pom changed since the last resolution.
ensure_kafka_libs() {
  ensure_java
  local pom="$TESSERA_ROOT/infra/local/kafka/pom.xml" stamp="$KAFKA_LIBS/.pom-hash" hash
  hash=$(sha256sum "$pom" | cut -c1-64)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then return; fi
  command -v mvn >/dev/null || apt_install maven
  log "resolving Kafka jars from Maven Central (infra/local/kafka/pom.xml)"
  rm -rf "$KAFKA_LIBS" && mkdir -p "$KAFKA_LIBS"
  if ! (cd "$TESSERA_ROOT/infra/local/kafka" && mvn -q -B dependency:copy-dependencies \
        -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime >"$TESSERA_LOCAL/kafka/mvn.log" 2>&1); then
    tail -20 "$TESSERA_LOCAL/kafka/mvn.log" >&2
    die "Maven could not resolve the Kafka jars (log: .local/kafka/mvn.log); check that Maven Central is reachable"
  fi
  echo "$hash" >"$stamp"
}

KAFKA_JVM=(java -Xms256m -Xmx768m -XX:+UseG1GC -Dlog4j2.configurationFile="$TESSERA_ROOT/infra/local/kafka/log4j2.yaml" -cp "$KAFKA_LIBS/*")
kafka_java() { "${KAFKA_JVM[@]}" "$@"; }

# kafka_start DIR PORT CONTROLLER_PORT — formats storage once, starts the broker, waits for an admin call.
kafka_start() {
  local dir=$1 port=$2 cport=$3
  mkdir -p "$dir/data"
  if pid_alive "$dir/kafka.pid"; then log "Kafka already running on 127.0.0.1:$port"; return; fi
  port_busy "$port" && die "port $port (Kafka) is taken by another process; stop it or set TESSERA_KAFKA_PORT"
  port_busy "$cport" && die "port $cport (Kafka controller) is taken by another process; stop it or set TESSERA_KAFKA_CONTROLLER_PORT"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# Topics are declared in libs/shared/contracts/src/lib/topics.ts and created by the platform script.
auto.create.topics.enable=false
PROPS
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster_id; cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; die "formatting Kafka storage failed"; }
  fi
  log "starting Kafka on 127.0.0.1:$port"
  nohup "${KAFKA_JVM[@]}" kafka.Kafka "$dir/server.properties" >"$dir/kafka.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
}

kafka_stop() { stop_pidfile "Kafka" "$1/kafka.pid"; }
