#!/usr/bin/env bash
# Starts each local service the tests talk to when it does not answer on 127.0.0.1.
# The commands are the ones this machine kind documents; on a machine where a service
# is not installed, the script says so and the tests of that service fail under CI=true.
set -uo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {  # name port command...
  local name=$1 port=$2; shift 2
  if answers "$port"; then return 0; fi
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "services: $name is not installed ($1 not found); its tests cannot run here" >&2
    return 0
  fi
  echo "services: starting $name on port $port"
  "$@" >/dev/null 2>&1 || echo "services: '$*' failed" >&2
  for _ in $(seq 1 60); do answers "$port" && return 0; sleep 0.5; done
  echo "services: $name still does not answer on port $port" >&2
}

pg_start() { pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start; }
if ! answers 5432 && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "services: starting PostgreSQL on port 5432"; pg_start >/dev/null 2>&1
  for _ in $(seq 1 60); do answers 5432 && break; sleep 0.5; done
fi
start Redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
start RabbitMQ 5672 rabbitmq-server -detached
start Mosquitto 1883 mosquitto -d -c /etc/mosquitto/mosquitto.conf
start NATS 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
start MariaDB 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
exit 0
