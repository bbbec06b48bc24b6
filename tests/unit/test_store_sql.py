"""Where the read model's live write is read: one file, loaded by the migrations."""

from importlib import resources

from store import migrations


def test_the_newest_append_function_is_the_one_its_own_file_holds() -> None:
    defining = [m for m in migrations.migrations() if "FUNCTION complaints_append" in m.sql]
    newest = defining[-1]
    written = resources.files("store").joinpath(
        "migrations", f"{newest.version:04d}_{newest.name}.sql"
    )
    assert "\\ir ../sql/complaints_append.sql" in written.read_text()
    body = resources.files("store").joinpath("sql", "complaints_append.sql").read_text()
    assert body in newest.sql


def test_a_migration_without_includes_is_read_as_written() -> None:
    first = migrations.migrations()[0]
    written = resources.files("store").joinpath("migrations", f"0001_{first.name}.sql")
    assert first.sql == written.read_text()
