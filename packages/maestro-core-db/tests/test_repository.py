"""BaseRepository on every engine: gets, bulk insert/upsert, keyset pages, counts, tenants."""

from __future__ import annotations

from typing import Any

import pytest
from maestro_core_db import (
    BaseRepository,
    DatabaseConfigError,
    DatabaseManager,
    EntityNotFoundError,
    Page,
    uuid7,
)
from sqlalchemy import event


def repo_for(model: Any) -> type[BaseRepository[Any]]:
    """A repository class for ``model``."""

    class Repo(BaseRepository[Any]):
        pass

    Repo.model = model
    return Repo


async def test_get_get_one_and_get_row(db: DatabaseManager, models: Any) -> None:
    """get() returns the object or None, get_one() raises, get_row() returns a dict."""
    Orders = repo_for(models.Order)
    async with db.transaction() as session:
        order = Orders(session).add(models.Order(sku="g-1", qty=3))
    async with db.session() as session:
        repo = Orders(session)
        found = await repo.get(order.id)
        assert found is not None
        assert found.sku == "g-1"
        assert await repo.get(uuid7()) is None
        with pytest.raises(EntityNotFoundError, match="Order"):
            await repo.get_one(uuid7())
        row = await repo.get_row(order.id)
        assert row is not None
        assert row["qty"] == 3


async def test_get_row_reads_on_the_sessions_current_transaction(
    db: DatabaseManager, models: Any
) -> None:
    """get_row keeps the session's connection only while its transaction lasts: it sees the
    session's own unflushed-to-others writes, and after commit, rollback or close it reads
    on whatever connection the session has then."""
    Orders = repo_for(models.Order)
    async with db.session() as session:
        repo = Orders(session)
        first = repo.add(models.Order(sku="r-1", qty=1))
        await session.flush()
        first_id = first.id  # plain values: a rollback expires the objects
        assert (await repo.get_row(first_id) or {})["qty"] == 1  # uncommitted, same connection
        await session.commit()
        second = repo.add(models.Order(sku="r-2", qty=2))
        await session.flush()
        second_id = second.id
        assert (await repo.get_row(second_id) or {})["qty"] == 2  # the new transaction's
        await session.rollback()
        assert await repo.get_row(second_id) is None
        assert (await repo.get_row(first_id) or {})["sku"] == "r-1"
        await session.close()
        assert (await repo.get_row(first_id) or {})["qty"] == 1
        await session.commit()  # (SQLite: one writer at a time)
        async with db.transaction() as other:
            await other.execute(
                models.Order.__table__.update()
                .where(models.Order.__table__.c.id == first_id)
                .values(qty=7)
            )
        # the session's next transaction sees the other one's committed write
        assert (await repo.get_row(first_id) or {})["qty"] == 7


async def test_insert_many_uses_executemany_in_batches(
    db: DatabaseManager, models: Any, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """insert_many runs the executemany path (never a giant VALUES list) and fills defaults."""
    from maestro_core_db import _repository
    from sqlalchemy.engine.interfaces import ExecuteStyle

    monkeypatch.setattr(_repository, "SQLITE_MAX_PARAMETERS", 80)  # 10 rows of 8 columns
    styles: list[Any] = []

    def record(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            styles.append(context.execute_style)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    rows = [{"sku": f"b-{i:03d}", "qty": i} for i in range(25)]
    async with db.transaction() as session:
        assert await repo_for(models.Order)(session).insert_many(rows) == 25
        assert await repo_for(models.Order)(session).insert_many([]) == 0
    assert styles
    assert all(s in (ExecuteStyle.EXECUTEMANY, ExecuteStyle.INSERTMANYVALUES) for s in styles)
    if backend == "sqlite":
        assert len(styles) == 3  # 10 + 10 + 5 rows: under the parameter cap
    async with db.session() as session:
        repo = repo_for(models.Order)(session)
        assert await repo.count() == 25
        one = (await repo.find(models.Order.sku == "b-007"))[0]
        assert one.qty == 7
        assert one.id.version == 7
        assert one.created_at.tzinfo is not None


async def test_upsert_many_updates_on_conflict(db: DatabaseManager, models: Any) -> None:
    """upsert_many inserts new rows and updates the named columns of existing ones."""
    Orders = repo_for(models.Order)
    async with db.transaction() as session:
        await Orders(session).insert_many([{"sku": "u-1", "qty": 1}, {"sku": "u-2", "qty": 2}])
    async with db.transaction() as session:
        count = await Orders(session).upsert_many(
            [{"sku": "u-2", "qty": 20}, {"sku": "u-3", "qty": 3}], conflict=["sku"], update=["qty"]
        )
        assert count == 2
    rows = await db.execute_query("select sku, qty from mdb_orders order by sku")
    assert rows == [{"sku": "u-1", "qty": 1}, {"sku": "u-2", "qty": 20}, {"sku": "u-3", "qty": 3}]
    async with db.transaction() as session:
        with pytest.raises(DatabaseConfigError, match="no column 'nope'"):
            await Orders(session).upsert_many([{"sku": "x"}], conflict=["sku"], update=["nope"])


async def test_list_page_walks_every_row_once(db: DatabaseManager, models: Any) -> None:
    """Keyset pages over (created_at, id) return every row exactly once, in order."""
    Orders = repo_for(models.Order)
    async with db.transaction() as session:
        await Orders(session).insert_many([{"sku": f"p-{i:02d}", "qty": i} for i in range(23)])
    seen: list[str] = []
    cursor = None
    pages = 0
    async with db.session() as session:
        repo = Orders(session)
        while True:
            page = await repo.list_page(
                order_by=(models.Order.created_at, models.Order.id), after=cursor, limit=5
            )
            assert isinstance(page, Page)
            pages += 1
            seen += [o.sku for o in page.items]
            if not page.has_more:
                break
            cursor = page.next_cursor
        assert pages == 5
        assert sorted(seen) == [f"p-{i:02d}" for i in range(23)]
        assert len(set(seen)) == 23
        by_qty = await repo.list_page(models.Order.qty >= 20, order_by=(models.Order.qty,), limit=2)
        assert [o.qty for o in by_qty.items] == [20, 21]
        rest = await repo.list_page(
            models.Order.qty >= 20, order_by=(models.Order.qty,), after=by_qty.next_cursor
        )
        assert [o.qty for o in rest.items] == [22]
        assert rest.next_cursor is None
        with pytest.raises(DatabaseConfigError, match="cursor"):
            await repo.list_page(after="not-a-cursor")


async def test_list_and_count_in_one_query(db: DatabaseManager, models: Any) -> None:
    """list_and_count returns one page and the total of all matching rows."""
    Orders = repo_for(models.Order)
    async with db.transaction() as session:
        await Orders(session).insert_many([{"sku": f"c-{i:02d}", "qty": i} for i in range(12)])
    async with db.session() as session:
        repo = Orders(session)
        items, total = await repo.list_and_count(
            models.Order.qty >= 2, order_by=[models.Order.qty], limit=3, offset=3
        )
        assert [o.qty for o in items] == [5, 6, 7]
        assert total == 10
        items, total = await repo.list_and_count(models.Order.qty >= 2, limit=3, offset=50)
        assert items == []
        assert total == 10


async def test_soft_delete_hides_rows(db: DatabaseManager, models: Any) -> None:
    """delete() on a SoftDeleteMixin model marks the row; reads skip it; the row remains."""
    Orders = repo_for(models.Order)
    async with db.transaction() as session:
        order = Orders(session).add(models.Order(sku="d-1", qty=1))
    async with db.transaction() as session:
        repo = Orders(session)
        loaded = await repo.get_one(order.id)
        await repo.delete(loaded)
        assert loaded.is_deleted
    async with db.session() as session:
        repo = Orders(session)
        assert await repo.get(order.id) is None
        assert await repo.count() == 0
        assert await repo.get_row(order.id) is None
    assert (await db.execute_query("select count(*) as n from mdb_orders")) == [{"n": 1}]


async def test_tenant_repository_filters_every_query(db: DatabaseManager, models: Any) -> None:
    """A repository with tenant_id stamps inserts and sees only its tenant's rows."""
    Items = repo_for(models.Item)
    async with db.transaction() as session:
        await Items(session, tenant_id="acme").insert_many([{"name": "a1"}, {"name": "a2"}])
        other = Items(session, tenant_id="globex").add(models.Item(name="g1"))
    async with db.session() as session:
        acme = Items(session, tenant_id="acme")
        assert sorted(i.name for i in await acme.find()) == ["a1", "a2"]
        assert await acme.count() == 2
        assert await acme.get(other.id) is None
        assert await acme.get_row(other.id) is None
        assert (await Items(session, tenant_id="globex").get_row(other.id) or {})["name"] == "g1"
        _, total = await acme.list_and_count()
        assert total == 2
        page = await acme.list_page()
        assert {i.tenant_id for i in page.items} == {"acme"}


def test_repository_needs_a_model(models: Any) -> None:
    """A repository without a model, or a tenant_id on a model without one, is refused."""

    class NoModel(BaseRepository[Any]):
        pass

    with pytest.raises(DatabaseConfigError, match="model = YourModel"):
        NoModel(None)  # type: ignore[arg-type]
    with pytest.raises(DatabaseConfigError, match="TenantMixin"):
        repo_for(models.Account)(None, tenant_id="t")  # type: ignore[arg-type]
