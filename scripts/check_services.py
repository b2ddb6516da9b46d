"""Fail fast, naming the service and how to start it, when a service the tests need is down."""
import os
import socket
import sys

SERVICES = [
    ("PostgreSQL", "127.0.0.1", 5432, "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"),
    ("Redis", "127.0.0.1", 6379, 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'),
]


def main() -> int:
    missing = []
    for name, host, port, how in SERVICES:
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as exc:
            missing.append(f"  {name} on {host}:{port} is not reachable ({exc}); start it with: {how}")
    if missing:
        print("The test suite needs these services:\n" + "\n".join(missing), file=sys.stderr)
        return 1
    import psycopg

    try:
        psycopg.connect(os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0] + "/postgres").close()
    except Exception as exc:  # noqa: BLE001 - report whatever the driver says
        print(f"PostgreSQL refused the test connection: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
