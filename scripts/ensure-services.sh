#!/usr/bin/env bash
# Start the machine's PostgreSQL and Redis if they are down (the shared-store tests need both;
# the tests fail loudly, never skip, when they are still unreachable). Idempotent; needs root to start.
set -u

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up && command -v pg_ctlcluster >/dev/null; then
    for version in $(ls /etc/postgresql 2>/dev/null); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
fi
if ! redis_up && command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for _ in $(seq 1 50); do
    pg_up && redis_up && break
    sleep 0.2
done
pg_up || echo "ensure-services: PostgreSQL on 127.0.0.1:5432 is not reachable" >&2
redis_up || echo "ensure-services: Redis on 127.0.0.1:6379 is not reachable" >&2
exit 0
