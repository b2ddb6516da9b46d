"""Small portable SQL expressions the ORM lacks."""
from __future__ import annotations

from django.db.models import BigIntegerField, Func


class SecondsBetween(Func):
    """Whole seconds from ``start`` to ``end``, each truncated to its second (both databases agree)."""

    arity = 2
    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL
        start, end = (compiler.compile(expression) for expression in self.source_expressions)
        sql = "(FLOOR(EXTRACT(EPOCH FROM %s)) - FLOOR(EXTRACT(EPOCH FROM %s)))::bigint" % (end[0], start[0])
        return sql, [*end[1], *start[1]]

    def as_sqlite(self, compiler, connection, **extra):
        start, end = (compiler.compile(expression) for expression in self.source_expressions)
        # "%%s" reaches SQLite as strftime's "%s" after the backend's placeholder substitution.
        sql = "(CAST(strftime('%%%%s', %s) AS INTEGER) - CAST(strftime('%%%%s', %s) AS INTEGER))" % (end[0], start[0])
        return sql, [*end[1], *start[1]]
