"""The test PostgreSQL server (tests/helpers.py PostgresServer) starts, answers and keeps its data across a
restart: the shared-catalog tests stand on it."""

import psycopg


def test_a_real_postgres_keeps_its_data_across_a_restart(postgres_server):
    with psycopg.connect(postgres_server.url, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS kept (n int)")
        connection.execute("INSERT INTO kept VALUES (7)")
    postgres_server.stop()
    postgres_server.start()
    with psycopg.connect(postgres_server.url) as connection:
        assert connection.execute("SELECT sum(n) FROM kept").fetchone()[0] == 7
        assert connection.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
