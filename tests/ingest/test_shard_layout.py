"""What the coordinator calls a shard and how it splits a catalogue, as pure functions: the partition
key is character for character the expression the translator's covers name, foreign servers get
one stable, readable name per address, and the key ranges cover every key once."""

from __future__ import annotations

from archive_io.shards import foreign_server_name, key_expression, remote_tables_from_rows, shard_address
from data_ingest.catalogs.sharded import Part
from pgsql_text.pgsphere import healpix_key_sql
from pgsql_text.quoting import quote_ident


def test_the_partition_key_is_the_expression_the_translator_covers() -> None:
    assert key_expression("ra", "dec") == healpix_key_sql(12, quote_ident("ra"), quote_ident("dec"))
    assert key_expression("ra", "dec") == 'healpix_nest(12, spoint(radians("ra"), radians("dec")))'


def test_a_shard_has_one_readable_name_per_address_whatever_the_url_spelling() -> None:
    one = foreign_server_name("postgresql://alice:secret@db3.example.org:5433/archive")
    same = foreign_server_name("host=db3.example.org port=5433 dbname=archive user=bob")
    other = foreign_server_name("postgresql://alice@db3.example.org:5433/archive2")
    assert one == same != other
    assert one.startswith("dalserver_shard_db3_example_org_5433_archive_") and len(one) <= 63
    assert "secret" not in shard_address("postgresql://alice:secret@db3.example.org:5433/archive")


def test_a_local_shards_name_comes_from_its_socket_directory() -> None:
    name = foreign_server_name("postgresql://dalserver@/arch?host=/var/tmp/home/shards/s2/run&port=5432")
    assert name.startswith("dalserver_shard_s2_run_5432_arch_")


def test_the_ranges_of_the_parts_leave_no_key_out_and_take_none_twice() -> None:
    parts = [Part("a", None, 100), Part("b", 100, 250), Part("c", 250, None)]
    assert [p.bounds() for p in parts] == [
        "FROM (MINVALUE) TO (100)",
        "FROM (100) TO (250)",
        "FROM (250) TO (MAXVALUE)",
    ]
    assert [p.where("k") for p in parts] == ["k < 100", "k >= 100 AND k < 250", "k >= 250"]
    assert Part("only", None, None).where("k") == "true"


def test_a_partitions_key_range_is_read_back_from_its_bound_as_postgresql_writes_it() -> None:
    rows = [
        ("s1", None, None, None, "FOR VALUES FROM (MINVALUE) TO ('67040396')"),
        ("s2", None, None, None, "FOR VALUES FROM ('67040396') TO ('134163650')"),
        ("s3", None, None, None, "FOR VALUES FROM ('134163650') TO (MAXVALUE)"),
        ("s4", None, None, None, "DEFAULT"),  # not a range: treated as holding any key
    ]
    tables = remote_tables_from_rows("shd.stars", rows)
    assert [(t.low, t.high) for t in tables] == [
        (None, 67040396),
        (67040396, 134163650),
        (134163650, None),
        (None, None),
    ]
