"""GET /api/v1/projects/{id}/queriedTables: the tables the published SQL cells read."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.cast import new_connection, notebook, published_project


def sql_cell(connection: str, source: str) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "metadata": {"runyard": {"sql": {"connection": connection, "output": "df"}}},
        "source": source,
        "outputs": [],
        "execution_count": None,
    }


def connections(client: TestClient) -> dict[str, dict[str, Any]]:
    mysql = {"hostname": "db", "port": 3306, "database": "shop", "username": "u", "password": "p"}
    return {
        "postgres": new_connection(client, "Warehouse"),
        "mysql": new_connection(client, "Shop", type="mysql", connectionDetails={"mysql": mysql}),
        "duckdb": new_connection(
            client, "Lake", type="duckdb", connectionDetails={"duckdb": {"path": "/tmp/x.duckdb"}}
        ),
    }


POSTGRES_SQL = """
with recent as (
    select o.* from sales.orders o join public.customers c on o.customer_id = c.id
    where o.region = {{ region }}
), totals as (select customer_id, sum(total) from recent group by 1)
select * from totals join analytics.dim_date d on true
"""
MYSQL_SQL = "select * from `shop`.`orders` o left join inventory.items i using (sku)"
DUCKDB_SQL = "select * from read_parquet('x.parquet') p join main.events e on p.id = e.id"


def test_tables_of_joins_ctes_and_schema_qualified_names_in_each_dialect(
    client: TestClient,
) -> None:
    found = connections(client)
    nb = notebook("print(1)", parameters="region = 'EU'")
    nb["cells"] += [
        sql_cell(found["postgres"]["id"], POSTGRES_SQL),
        sql_cell("Shop", MYSQL_SQL),  # by name, as a SQL cell may name its connection
        sql_cell(found["duckdb"]["id"], DUCKDB_SQL),
        sql_cell(found["duckdb"]["id"], "select from where ((("),  # does not parse: left out
        sql_cell("No such connection", "select * from ghosts"),
    ]
    project_id = published_project(client, nb)
    response = client.get(f"/api/v1/projects/{project_id}/queriedTables")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["traceId"] and body["pagination"] == {"after": None, "before": None}
    assert [(t["dataConnectionName"], t["tableName"]) for t in body["values"]] == [
        ("Lake", "main.events"),
        ("Shop", "inventory.items"),
        ("Shop", "shop.orders"),
        ("Warehouse", "analytics.dim_date"),
        ("Warehouse", "public.customers"),
        ("Warehouse", "sales.orders"),
    ]
    ids = {t["dataConnectionName"]: t["dataConnectionId"] for t in body["values"]}
    assert ids == {
        "Lake": found["duckdb"]["id"],
        "Shop": found["mysql"]["id"],
        "Warehouse": found["postgres"]["id"],
    }

    pages, after = [], None
    while True:
        params: dict[str, Any] = {"limit": 4} | ({"after": after} if after else {})
        page = client.get(f"/api/v1/projects/{project_id}/queriedTables", params=params).json()
        pages.append([t["tableName"] for t in page["values"]])
        after = page["pagination"]["after"]
        if not after:
            break
    assert pages == [
        ["main.events", "inventory.items", "shop.orders", "analytics.dim_date"],
        ["public.customers", "sales.orders"],
    ]
    back = client.get(
        f"/api/v1/projects/{project_id}/queriedTables",
        params={"limit": 4, "before": page["pagination"]["before"]},
    ).json()
    assert [t["tableName"] for t in back["values"]] == pages[0]


def test_the_published_version_counts_not_the_draft(client: TestClient) -> None:
    found = connections(client)
    nb = notebook("print(1)")
    nb["cells"].append(sql_cell(found["postgres"]["id"], "select * from v1_table"))
    project_id = published_project(client, nb)
    nb["cells"][-1]["source"] = "select * from draft_table"
    client.put(f"/api/v1/projects/{project_id}/notebook", json=nb)
    tables = client.get(f"/api/v1/projects/{project_id}/queriedTables").json()["values"]
    assert [t["tableName"] for t in tables] == ["v1_table"]


def test_an_unpublished_project_and_bad_cursors_are_refused(client: TestClient) -> None:
    draft = client.post("/api/v1/projects", json={"title": "Draft"}).json()["id"]
    unpublished = client.get(f"/api/v1/projects/{draft}/queriedTables")
    assert unpublished.status_code == 422
    project_id = published_project(client, notebook("print(1)"))
    empty = client.get(f"/api/v1/projects/{project_id}/queriedTables").json()
    assert empty["values"] == []
    for params in ({"after": "x"}, {"before": "-1"}, {"after": "1", "before": "2"}):
        refused = client.get(f"/api/v1/projects/{project_id}/queriedTables", params=params)
        assert refused.status_code == 400, params
        assert {"code", "reason", "traceId"} <= set(refused.json())
