#!/usr/bin/env bash
# Real single-node Apache Kafka broker for tests and CI, without Docker.
#
# Kafka 4.x runs in KRaft mode, with broker and controller in one JVM. The broker jars come from Maven
# Central through scripts/kafka/pom.xml and are kept in a per-version cache, so the download happens
# only once per machine. Each `start` begins with an empty data dir (new cluster id, no topics).
#
# Usage:
#   scripts/kafka-test-broker.sh fetch    download the jars into the cache (nothing else)
#   scripts/kafka-test-broker.sh start    start (or find the running) broker; prints `export` lines:
#                                           KAFKA_BOOTSTRAP=127.0.0.1:PORT
#                                         and with KAFKA_SASL_SSL=1 also
#                                           KAFKA_SASL_SSL_BOOTSTRAP=localhost:PORT
#                                           KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD,
#                                           KAFKA_SSL_CA_LOCATION (PEM file of the test CA)
#   scripts/kafka-test-broker.sh stop     stop it; succeeds when nothing is running
#   scripts/kafka-test-broker.sh restart  stop and start again on the same ports and data (a broker outage)
#   scripts/kafka-test-broker.sh status   exit 0 and print the export lines if it is running, else exit 1
#
#   eval "$(scripts/kafka-test-broker.sh start)"; cargo test ...; scripts/kafka-test-broker.sh stop
#
# Only the export lines go to stdout (so `eval "$(...)"` is safe); all progress goes to stderr.
#
# Needs: bash, coreutils, util-linux (flock), Java 17+ (java, keytool), and Maven with Maven Central
# reachable (first run only). All of these are on a stock Debian 12 with a JDK and Maven.
#
# Environment:
#   KAFKA_HOME_DIR       state dir: config, data, logs, pid (default: $PWD/target/kafka-test)
#   KAFKA_CACHE_DIR      jar cache root; jars go to <root>/<version> (default: ~/.cache/semaphore/kafka)
#   KAFKA_VERSION        pin a version (no fallback then); default 4.4.0, falling back to 4.3.1
#   KAFKA_SASL_SSL=1     also open a SASL_SSL listener with SASL/PLAIN (Confluent Cloud shape)
#   KAFKA_HEAP           max heap of the broker JVM (default 512m)
#   KAFKA_START_TIMEOUT  seconds to wait for readiness (default 120)
#   KAFKA_STOP_TIMEOUT   seconds to wait after SIGTERM before SIGKILL (default 30)
#   MAVEN_OPTS           passed through to Maven as usual (e.g. -Dmaven.repo.local=...)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly POM="$SCRIPT_DIR/kafka/pom.xml"
readonly PREFERRED_VERSION=4.4.0
readonly FALLBACK_VERSION=4.3.1

STATE_DIR=${KAFKA_HOME_DIR:-$PWD/target/kafka-test}
# The JVM gets absolute paths in its config; a relative dir would break once cwd changes.
case $STATE_DIR in /*) ;; *) STATE_DIR="$PWD/$STATE_DIR" ;; esac
readonly STATE_DIR
readonly CACHE_ROOT=${KAFKA_CACHE_DIR:-$HOME/.cache/semaphore/kafka}
readonly HEAP=${KAFKA_HEAP:-512m}
readonly START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}
readonly STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
readonly SASL_SSL=${KAFKA_SASL_SSL:-0}

# Fixed test credentials: tests read them from the printed env, so there is nothing to configure.
readonly SASL_USER=testkey
readonly SASL_PASS=testsecret
# Password of the throwaway keystores; it protects nothing, the broker needs one anyway.
readonly STORE_PASS=changeit

readonly PID_FILE="$STATE_DIR/broker.pid"
readonly ENV_FILE="$STATE_DIR/env"
readonly CONFIG="$STATE_DIR/server.properties"
readonly LOG_DIR="$STATE_DIR/logs"
readonly DATA_DIR="$STATE_DIR/data"
readonly TLS_DIR="$STATE_DIR/tls"

log() { printf 'kafka-test-broker: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Wall-clock seconds with millisecond precision, without bc (not on a minimal Debian).
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%03d' $(( ms / 1000 )) $(( ms % 1000 )); }

require_java() {
  command -v java >/dev/null || die "java not found on PATH (Kafka 4.x needs Java 17+)"
  command -v keytool >/dev/null || die "keytool not found on PATH (it ships with the JDK/JRE)"
  local spec
  spec=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  if ! [[ $spec =~ ^[0-9]+$ ]] || (( spec < 17 )); then
    die "Kafka 4.x brokers need Java 17+, but 'java' is version '${spec:-unknown}'"
  fi
}

# ---------------------------------------------------------------------------------------------------
# Jars
# ---------------------------------------------------------------------------------------------------

# download_version VERSION: make sure $CACHE_ROOT/VERSION holds a complete jar set. Returns non-zero
# (after Maven has printed its errors) when that version cannot be resolved.
download_version() {
  local version=$1 dir="$CACHE_ROOT/$1"
  [[ -f $dir/.complete ]] && return 0
  command -v mvn >/dev/null || die "mvn not found on PATH (needed once, to download the Kafka jars)"
  mkdir -p "$CACHE_ROOT"
  # A lock so that two concurrent starts (e.g. different KAFKA_HOME_DIRs) do not download into the
  # same place. It runs in a subshell so the lock fd is closed again before any JVM is started.
  (
    flock 9
    [[ -f $dir/.complete ]] && exit 0            # the other process finished it meanwhile
    # Download into a scratch dir and rename at the end: an interrupted download must never look
    # like a usable cache.
    local tmp="$dir.partial"
    rm -rf "$tmp" "$dir"
    mkdir -p "$tmp"
    log "downloading Kafka $version jars from Maven Central into $dir ..."
    local t0; t0=$(now_ms)
    # -U: ask Central again even if ~/.m2 remembers an earlier "not found" (Maven caches those for
    # a day), so the fallback is only taken after a real attempt. -q keeps Maven to errors only.
    # Its output goes to a log shown only on failure: our stdout is reserved for the export lines,
    # and Maven 3.8 emits stray ANSI resets even with -B.
    local mvn_log="$CACHE_ROOT/mvn-$version.log"
    if ! mvn -B -q -U -Dstyle.color=never -f "$POM" -Dkafka.version="$version" -Dkafka.libs="$tmp" \
         dependency:copy-dependencies > "$mvn_log" 2>&1 < /dev/null; then
      sed 's/\x1b\[[0-9;]*m//g' "$mvn_log" >&2
      rm -rf "$tmp"
      log "Maven could not resolve Kafka $version (output above, also in $mvn_log)"
      exit 1
    fi
    rm -f "$mvn_log"
    # Guard against a "successful" but useless resolution (e.g. a changed POM): the classes we run
    # live in the core jar, and without the log4j binding there is no server.log to watch.
    local jar
    for jar in "kafka_2.13-$version.jar" "kafka-clients-$version.jar"; do
      [[ -f $tmp/$jar ]] || { rm -rf "$tmp"; log "download incomplete: $jar missing"; exit 1; }
    done
    compgen -G "$tmp/log4j-slf4j-impl-*.jar" >/dev/null \
      || { rm -rf "$tmp"; log "download incomplete: log4j-slf4j-impl missing"; exit 1; }
    touch "$tmp/.complete"
    mv "$tmp" "$dir"
    log "downloaded Kafka $version ($(du -sh "$dir" | cut -f1)) in $(elapsed "$t0") s"
  ) 9>"$CACHE_ROOT/.lock"
}

# Sets KAFKA_VER and LIBS. An explicitly pinned KAFKA_VERSION is used as is; otherwise the preferred
# version is tried first and the fallback is used only when the preferred one cannot be downloaded.
resolve_jars() {
  if [[ -n ${KAFKA_VERSION:-} ]]; then
    download_version "$KAFKA_VERSION" || die "cannot download pinned Kafka $KAFKA_VERSION"
    KAFKA_VER=$KAFKA_VERSION
  elif download_version "$PREFERRED_VERSION"; then
    KAFKA_VER=$PREFERRED_VERSION
  else
    log "WARNING: Kafka $PREFERRED_VERSION failed to download; FALLING BACK to $FALLBACK_VERSION"
    download_version "$FALLBACK_VERSION" \
      || die "neither Kafka $PREFERRED_VERSION nor $FALLBACK_VERSION could be downloaded"
    KAFKA_VER=$FALLBACK_VERSION
  fi
  LIBS="$CACHE_ROOT/$KAFKA_VER"
}

# ---------------------------------------------------------------------------------------------------
# Processes and ports
# ---------------------------------------------------------------------------------------------------

# True when something accepts TCP connections on 127.0.0.1:PORT. Pure bash, so no nc/python needed.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port: sets REPLY to a port nobody listens on. Ports come from 20000-31999, below Linux's
# ephemeral range (32768+), so the kernel does not hand them out to other programs' outgoing
# connections or port-0 binds between now and the broker's bind. A port taken anyway is caught at
# startup ("Address already in use") and the whole start is retried with new ports.
PICKED_PORTS=" "
pick_port() {
  local p _
  for _ in {1..200}; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    [[ $PICKED_PORTS == *" $p "* ]] && continue
    port_open "$p" && continue
    PICKED_PORTS+="$p "
    REPLY=$p
    return 0
  done
  die "could not find a free TCP port on 127.0.0.1"
}

# True when PID is a live broker JVM of *this* state dir. Checking the command line protects against
# a stale pid file whose pid now belongs to an unrelated process.
is_our_broker() {
  local pid=$1 args
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # mapfile is a builtin: no fork per process while scanning /proc. A zombie has an empty cmdline.
  mapfile -d '' args 2>/dev/null < "/proc/$pid/cmdline" || return 1
  [[ " ${args[*]} " == *" kafka.Kafka $CONFIG "* ]]
}

# Prints the pid of this state dir's broker, if one is running. Falls back to scanning /proc for a
# JVM started with our exact config path, in case the pid file was lost.
broker_pid() {
  local pid
  if [[ -f $PID_FILE ]]; then
    pid=$(<"$PID_FILE")
    is_our_broker "$pid" && { echo "$pid"; return 0; }
  fi
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    is_our_broker "$pid" && { echo "$pid"; return 0; }
  done
  return 1
}

# Java command lines, as Kafka's bin/kafka-run-class.sh builds them minus JMX and GC logging, which
# tests do not need. Sets TOOL_CMD (short-lived `format`) and BROKER_CMD.
java_cmds() {
  local common=(-Djava.awt.headless=true
    -Dlog4j2.configurationFile="$STATE_DIR/log4j2.properties"
    -Dkafka.logs.dir="$LOG_DIR"
    -cp "$LIBS/*")
  # format lives for about a second: the C1 compiler only and the serial GC start faster and save
  # ~0.8 s of the warm start on two cores.
  TOOL_CMD=(java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${common[@]}")
  BROKER_CMD=(java -Xms128m -Xmx"$HEAP"
    # Kafka's own GC choice (kafka-run-class.sh); the small heap keeps pauses short anyway.
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent
    # An OOM should end the JVM (and show up as a dead broker), not leave a half-working one.
    -XX:+ExitOnOutOfMemoryError
    "${common[@]}")
}

# ---------------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------------

write_log4j_config() {
  # A .properties config rather than Kafka's log4j2.yaml: YAML would need jackson-dataformat-yaml
  # on the classpath at the right version, properties need nothing. Everything goes into one file,
  # which is also what start waits on ("Kafka Server started").
  cat > "$STATE_DIR/log4j2.properties" <<'EOF'
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
# Per-request and per-partition-state chatter is useless in tests and costs disk and CPU.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
}

# True when ::1 is configured, so an IPv6 loopback listener can be opened.
have_ipv6_loopback() { grep -qi '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; }

# write_server_config PLAINTEXT_PORT CONTROLLER_PORT [SASL_SSL_PORT]
write_server_config() {
  local port=$1 cport=$2 sport=${3:-}
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
  local advertised="PLAINTEXT://127.0.0.1:$port"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT" v6=""
  if [[ -n $sport ]]; then
    # Advertised as "localhost" because that is the name in the certificate, and clients verify
    # the broker's hostname by default.
    listeners+=",SASL_SSL://127.0.0.1:$sport"
    advertised+=",SASL_SSL://localhost:$sport"
    protocols+=",SASL_SSL:SASL_SSL"
    # Stock Debian /etc/hosts maps localhost to ::1 as well, and librdkafka tries ::1 first: with
    # nothing there it logs "Connection refused" errors before falling back to 127.0.0.1. Kafka
    # lets an IPv4 and an IPv6 listener share a port, so listen on [::1] too, advertised under the
    # same name so that clients arriving over IPv6 get a usable address in metadata.
    if have_ipv6_loopback; then
      v6=1
      listeners+=",SASL_SSL6://[::1]:$sport"
      advertised+=",SASL_SSL6://localhost:$sport"
      protocols+=",SASL_SSL6:SASL_SSL"
    fi
  fi

  cat > "$CONFIG" <<EOF
# Written by scripts/kafka-test-broker.sh for this run; edits are lost on the next start.
process.roles=broker,controller
node.id=1
# A static one-voter quorum; format then needs only a cluster id (no --standalone).
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
# Inter-broker (self) traffic stays on PLAINTEXT, so SASL needs no client-side broker credentials.
inter.broker.listener.name=PLAINTEXT
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$protocols
log.dirs=$DATA_DIR

# Test-friendly topic defaults: tests create topics implicitly and want several partitions.
num.partitions=6
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
# Internal topics must fit a single broker; one partition each also makes the first consumer group
# and the first transaction start faster than the 50 partitions they get by default.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumer groups start at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0

# Two cores shared with the test suite: fewer threads than the defaults.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
EOF

  if [[ -n $sport ]]; then
    local jaas="org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER=\"$SASL_PASS\";"
    cat >> "$CONFIG" <<EOF

# SASL/PLAIN over TLS, the shape of Confluent Cloud (API key/secret = username/password).
# user_<name>="<password>" declares the accepted logins.
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=$jaas
${v6:+listener.name.sasl_ssl6.plain.sasl.jaas.config=$jaas}
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/broker.p12
ssl.keystore.password=$STORE_PASS
ssl.key.password=$STORE_PASS
ssl.client.auth=none
EOF
  fi
}

# Creates a test CA and a broker certificate signed by it (SAN localhost, 127.0.0.1, ::1), unless a
# set from an earlier start is still valid: keytool is a JVM per call, about 0.5 s each.
# A real CA + leaf rather than one self-signed cert, because strict verifiers (rustls/webpki,
# Python 3.13's default X509_STRICT) reject a CA certificate presented as the server certificate.
ensure_certs() {
  if [[ -f $TLS_DIR/broker.p12 && -f $TLS_DIR/ca.pem ]] \
     && keytool -list -keystore "$TLS_DIR/broker.p12" -storepass "$STORE_PASS" -alias broker \
          -rfc 2>/dev/null | grep -q 'BEGIN CERTIFICATE' \
     && ! find "$TLS_DIR/ca.pem" -mtime +3000 | grep -q .; then   # valid for 3650 days
    return 0
  fi
  log "creating test CA and broker certificate in $TLS_DIR"
  rm -rf "$TLS_DIR"; mkdir -p "$TLS_DIR"
  local ks=(-storetype PKCS12 -storepass "$STORE_PASS" -keypass "$STORE_PASS")
  {
    keytool -genkeypair -alias ca -keyalg RSA -keysize 2048 -validity 3650 \
      -dname "CN=semaphore test CA" -ext bc:c=ca:true -ext ku:c=keyCertSign,cRLSign \
      -keystore "$TLS_DIR/ca.p12" "${ks[@]}"
    keytool -exportcert -rfc -alias ca -keystore "$TLS_DIR/ca.p12" -storepass "$STORE_PASS" \
      -file "$TLS_DIR/ca.pem"
    keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 3650 \
      -dname "CN=localhost" -keystore "$TLS_DIR/broker.p12" "${ks[@]}"
    keytool -certreq -alias broker -keystore "$TLS_DIR/broker.p12" -storepass "$STORE_PASS" \
      -file "$TLS_DIR/broker.csr"
    keytool -gencert -alias ca -keystore "$TLS_DIR/ca.p12" -storepass "$STORE_PASS" -rfc \
      -validity 3650 -infile "$TLS_DIR/broker.csr" -outfile "$TLS_DIR/broker.pem" \
      -ext SAN=dns:localhost,ip:127.0.0.1,ip:::1 -ext ku:c=digitalSignature,keyEncipherment \
      -ext eku=serverAuth
    # The CA goes into the broker keystore first so the signed reply can be chained to it.
    keytool -importcert -noprompt -alias ca -file "$TLS_DIR/ca.pem" \
      -keystore "$TLS_DIR/broker.p12" -storepass "$STORE_PASS"
    keytool -importcert -alias broker -file "$TLS_DIR/broker.pem" \
      -keystore "$TLS_DIR/broker.p12" -storepass "$STORE_PASS"
  } > "$TLS_DIR/keytool.log" 2>&1 || { cat "$TLS_DIR/keytool.log" >&2; die "keytool failed"; }
}

# ---------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------

print_env() { cat "$ENV_FILE"; }

# True when a broker of this state dir runs, has finished starting (env file written) and answers.
running_and_ready() {
  local pid port
  pid=$(broker_pid) || return 1
  [[ -s $ENV_FILE ]] || return 1
  port=$(sed -n 's/^export KAFKA_BOOTSTRAP=127\.0\.0\.1://p' "$ENV_FILE")
  [[ -n $port ]] && port_open "$port"
}

cmd_fetch() {
  resolve_jars
  log "Kafka $KAFKA_VER jars are in $LIBS"
}

# One attempt at format + launch + wait. Returns 0 when ready, 2 when a port was taken by someone
# else in the meantime (worth retrying with new ports), 1 on any other failure.
start_once() {
  local port cport sport=""
  pick_port; port=$REPLY
  pick_port; cport=$REPLY
  if [[ $SASL_SSL == 1 ]]; then pick_port; sport=$REPLY; fi

  rm -rf "$DATA_DIR" "$LOG_DIR" "$ENV_FILE" "$PID_FILE"
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  write_log4j_config
  write_server_config "$port" "$cport" "$sport"

  # The cluster id is 16 random bytes in unpadded base64url, the format `kafka-storage.sh
  # random-uuid` prints; made here to save one JVM start. Like Kafka's own, it never starts with
  # '-': the format tool would read it as an option (1 start in 64 failed that way).
  local cluster_id
  cluster_id=-
  while [[ $cluster_id == -* ]]; do
    cluster_id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  done

  local t0; t0=$(now_ms)
  java_cmds
  if ! "${TOOL_CMD[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" \
       > "$LOG_DIR/format.out" 2>&1 < /dev/null; then
    cat "$LOG_DIR/format.out" >&2
    log "ERROR: formatting the KRaft storage failed (output above)"
    return 1
  fi

  # nohup + no inherited stdio: the broker must outlive this script and must not hold the pipe of
  # `eval "$(... start)"` open, or the caller would hang until the broker exits. Nor may it keep
  # the state-dir lock (fd 8), or every later start/stop would block on it.
  nohup "${BROKER_CMD[@]}" kafka.Kafka "$CONFIG" > "$LOG_DIR/stdout.log" 2>&1 < /dev/null 8>&- &
  local pid=$!
  echo "$pid" > "$PID_FILE"
  # Interrupted while waiting (Ctrl-C, CI timeout): take the half-started broker down with us.
  # shellcheck disable=SC2064  # expand $pid now
  trap "kill -KILL $pid 2>/dev/null; rm -f '$PID_FILE'; exit 130" INT TERM HUP
  log "Kafka $KAFKA_VER starting (pid $pid, PLAINTEXT 127.0.0.1:$port${sport:+, SASL_SSL localhost:$sport})"

  # Ready means both: the port accepts connections and the server says it finished starting (the
  # port alone opens before the broker has caught up with the metadata log).
  local deadline=$(( SECONDS + START_TIMEOUT ))
  until port_open "$port" && grep -q 'Kafka Server started' "$LOG_DIR/server.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      if grep -qs 'Address already in use' "$LOG_DIR/server.log" "$LOG_DIR/stdout.log"; then
        trap - INT TERM HUP
        log "a chosen port was taken meanwhile; retrying with new ports"
        return 2
      fi
      trap - INT TERM HUP
      log "ERROR: the broker JVM exited during startup. Last log lines:"
      tail -n 40 "$LOG_DIR/stdout.log" >&2 || true
      tail -n 60 "$LOG_DIR/server.log" >&2 || true
      return 1
    fi
    if (( SECONDS >= deadline )); then
      trap - INT TERM HUP
      log "ERROR: broker not ready after ${START_TIMEOUT}s. Last log lines:"
      tail -n 60 "$LOG_DIR/server.log" >&2 || true
      cmd_stop
      return 1
    fi
    sleep 0.2
  done
  trap - INT TERM HUP
  log "Kafka $KAFKA_VER ready in $(elapsed "$t0") s (format + start)"

  # Written to a temp file and renamed, so a concurrent `status` never sees half of it.
  {
    printf 'export KAFKA_BOOTSTRAP=%q\n' "127.0.0.1:$port"
    if [[ -n $sport ]]; then
      printf 'export KAFKA_SASL_SSL_BOOTSTRAP=%q\n' "localhost:$sport"
      printf 'export KAFKA_SASL_USERNAME=%q\n' "$SASL_USER"
      printf 'export KAFKA_SASL_PASSWORD=%q\n' "$SASL_PASS"
      printf 'export KAFKA_SSL_CA_LOCATION=%q\n' "$TLS_DIR/ca.pem"
    fi
  } > "$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

cmd_start() {
  if running_and_ready; then
    # Idempotent, but only if the running broker has the listeners asked for now.
    if [[ $SASL_SSL == 1 ]] && ! grep -q KAFKA_SASL_SSL_BOOTSTRAP "$ENV_FILE"; then
      log "running broker has no SASL_SSL listener; restarting it with one"
      cmd_stop
    else
      log "already running (pid $(broker_pid)), state in $STATE_DIR"
      print_env
      return 0
    fi
  elif broker_pid >/dev/null; then
    # A JVM from an earlier start that never became ready (or lost its env file): replace it.
    log "found an unready broker from an earlier start; restarting it"
    cmd_stop
  fi

  require_java
  resolve_jars
  mkdir -p "$STATE_DIR"
  if [[ $SASL_SSL == 1 ]]; then ensure_certs; fi

  local attempt rc
  for attempt in 1 2 3; do
    rc=0
    start_once || rc=$?
    case $rc in
      0) print_env; return 0 ;;
      2) continue ;;
      *) exit 1 ;;
    esac
  done
  die "could not bind free ports after $attempt attempts"
}

cmd_stop() {
  local pid
  if ! pid=$(broker_pid); then
    log "not running"
    rm -f "$PID_FILE" "$ENV_FILE"
    return 0
  fi
  log "stopping broker (pid $pid)"
  # SIGTERM lets Kafka shut down in order (flush logs, leave the quorum); it normally takes a
  # couple of seconds. SIGKILL only if it hangs.
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( SECONDS + STOP_TIMEOUT ))
  while is_our_broker "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
  if is_our_broker "$pid"; then
    log "broker still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$(( SECONDS + 10 ))
    while is_our_broker "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
    is_our_broker "$pid" && die "broker pid $pid survived SIGKILL"
  fi
  rm -f "$PID_FILE" "$ENV_FILE"
  log "stopped"
}

# Stops the broker and starts it again on the same ports with the same data: what a broker outage
# looks like to clients. Used by tests of reconnecting consumers and producers.
cmd_restart() {
  [[ -f $ENV_FILE && -f $CONFIG ]] || die "no running broker state in $STATE_DIR to restart"
  local saved_env port
  saved_env=$(cat "$ENV_FILE")
  port=$(sed -n 's/^export KAFKA_BOOTSTRAP=127\.0\.0\.1://p' "$ENV_FILE")
  cmd_stop
  require_java
  resolve_jars
  java_cmds
  # The old log says "started" already; only the new run's lines may count.
  : > "$LOG_DIR/server.log"
  nohup "${BROKER_CMD[@]}" kafka.Kafka "$CONFIG" > "$LOG_DIR/stdout.log" 2>&1 < /dev/null 8>&- &
  local pid=$!
  echo "$pid" > "$PID_FILE"
  local deadline=$(( SECONDS + START_TIMEOUT ))
  until port_open "$port" && grep -q 'Kafka Server started' "$LOG_DIR/server.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "the broker JVM exited during restart; see $LOG_DIR/server.log"
    (( SECONDS < deadline )) || die "broker not ready ${START_TIMEOUT}s after restart"
    sleep 0.2
  done
  printf '%s\n' "$saved_env" > "$ENV_FILE"
  log "restarted (pid $pid)"
  print_env
}

cmd_status() {
  local pid
  if running_and_ready; then
    log "running (pid $(broker_pid)), state in $STATE_DIR"
    print_env
  elif pid=$(broker_pid); then
    log "JVM running (pid $pid) but not ready; see $LOG_DIR/server.log"
    return 1
  else
    log "not running"
    return 1
  fi
}

# start and stop of one state dir are serialized: test harnesses may call `start` from several
# processes at once and rely on it being idempotent. The lock is fd 8, closed for the broker JVM.
with_state_lock() {
  mkdir -p "$STATE_DIR"
  exec 8>"$STATE_DIR/.lock"
  flock -w $(( START_TIMEOUT + STOP_TIMEOUT + 120 )) 8 \
    || die "timed out waiting for another start/stop on $STATE_DIR"
  "$@"
}

case ${1:-} in
  fetch)  cmd_fetch ;;
  start)  with_state_lock cmd_start ;;
  stop)   if [[ -d $STATE_DIR ]]; then with_state_lock cmd_stop; else log "not running"; fi ;;
  restart) with_state_lock cmd_restart ;;
  status) cmd_status ;;
  *) echo "usage: $0 fetch|start|stop|restart|status" >&2; exit 2 ;;
esac
