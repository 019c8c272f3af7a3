"""Bulk upserts for the sync: one statement a table a page, whatever the database.

On PostgreSQL a page goes over as one JSON document that the server unpacks with
`jsonb_to_recordset`: binding thousands of values one by one (and Django compiling the
statement for each page) cost more than everything else the sync does. Other databases
(SQLite for the demo) use Django's `bulk_create(update_conflicts=True)`.
"""

import json
from datetime import date, datetime
from typing import Any

from django.db import connection, models

_PG_TYPES = {
    "AutoField": "integer",
    "BigAutoField": "bigint",
    "BigIntegerField": "bigint",
    "BooleanField": "boolean",
    "CharField": "text",
    "DateTimeField": "timestamptz",
    "EmailField": "text",
    "ForeignKey": "bigint",
    "IntegerField": "integer",
    "JSONField": "jsonb",
    "PositiveIntegerField": "integer",
    "TextField": "text",
}


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"Cannot serialise {type(value).__name__}")


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _column(field: models.Field) -> str:
    """A concrete field's column name (typed optional: a non-concrete field has none)."""
    assert field.column is not None
    return field.column


def bulk_upsert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    unique_fields: list[str],
    update_fields: list[str],
) -> None:
    """Insert `rows` (attname -> value), updating `update_fields` on a unique conflict.

    Columns a row leaves out take the field's default on insert and are not touched on
    update, so what the reviewer owns (drafts, decisions) is never overwritten here.
    """
    if not rows:
        return
    fields = _columns(model)
    defaults = {field.attname: field.get_default() for field in fields}
    complete = [{**defaults, **row} for row in rows]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**row) for row in complete],
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )
        return
    quote = connection.ops.quote_name
    by_name = {field.name: field for field in fields}
    record = ", ".join(
        f"{quote(field.attname)} {_PG_TYPES[field.get_internal_type()]}" for field in fields
    )
    selected = ", ".join(
        # A JSON null in the document would land as jsonb 'null'; Django stores SQL NULL.
        f"NULLIF(r.{quote(field.attname)}, 'null'::jsonb)"
        if field.get_internal_type() == "JSONField" and field.null
        else f"r.{quote(field.attname)}"
        for field in fields
    )
    conflict = ", ".join(quote(_column(by_name[name])) for name in unique_fields)
    updates = ", ".join(
        f"{quote(_column(by_name[name]))} = EXCLUDED.{quote(_column(by_name[name]))}"
        for name in update_fields
    )
    columns = ", ".join(quote(_column(field)) for field in fields)
    # Only identifiers from the model's own metadata are formatted in; every value
    # travels in the one bound parameter.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {selected} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )
    document = json.dumps(complete, default=_json_default, ensure_ascii=False)
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
