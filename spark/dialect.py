"""DuckDB SQL → Spark SQL, in one place (issue 20).

The report SQL (reports/*.sql) and the cross-county checks (reports/province/*.sql)
are written for DuckDB. Spark runs them after three steps, all here:

1. Macros are expanded in place. The engine's macros (report_month(), ratio(n, d),
   mask_id(s), …: DATA/_county/<code>/macros-<month>.sql, written by `pipeline
   export`) and a prelude's own CREATE MACRO statements are recorded; every call of
   one is replaced by its body with the arguments put in for the parameters
   (Spark has no SQL macros).
2. sqlglot transpiles the statement from the duckdb dialect to the spark dialect
   (QUALIFY → a window in a subquery, arg_max → max_by, strftime → date_format, …).
3. A few Spark rules are met by rewriting the Spark tree (`spark_rewrites`):
   - a cast around a generator (DuckDB's unnest(generate_series(…))::DATE, which
     sqlglot makes CAST(EXPLODE(SEQUENCE(…)) AS DATE)) is moved inside it:
     EXPLODE(TRANSFORM(SEQUENCE(…), x -> CAST(x AS DATE))).
4. CREATE TEMP TABLE x AS SELECT … becomes a cached temporary view of the SELECT
   (the caller runs it with spark.sql and registers the result).

Anything else that differs is a bug of this file, not of a report.
"""

import sqlglot
from sqlglot import exp


class Macros:
    """The macros in force: name → (parameter names, body expression)."""

    def __init__(self):
        self.defs = {}

    def define(self, create):
        udf = create.this
        name = udf.this.name.lower()
        params = [p.name.lower() for p in udf.expressions]
        self.defs[name] = (params, create.expression)

    def load(self, text):
        for stmt in sqlglot.parse(text, read="duckdb"):
            if stmt is not None and is_macro(stmt):
                self.define(stmt)

    def expand(self, tree, depth=0):
        """`tree` with every macro call replaced by the macro's body."""
        if depth > 20:
            raise ValueError("macros nest more than 20 deep (a macro calling itself?)")
        changed = False

        def visit(node):
            nonlocal changed
            if isinstance(node, exp.Anonymous) and node.name.lower() in self.defs:
                params, body = self.defs[node.name.lower()]
                args = node.expressions
                if len(args) != len(params):
                    raise ValueError(
                        f"macro {node.name} takes {len(params)} argument(s), given {len(args)}"
                    )
                binding = dict(zip(params, args))
                new = body.copy().transform(
                    lambda n: binding[n.name.lower()].copy()
                    if isinstance(n, exp.Column) and not n.table and n.name.lower() in binding
                    else n
                )
                changed = True
                return exp.Paren(this=new)
            return node

        out = tree.transform(visit)
        return self.expand(out, depth + 1) if changed else out


def is_macro(stmt):
    return isinstance(stmt, exp.Create) and str(stmt.args.get("kind", "")).upper() == "MACRO"


def statements(text):
    """The statements of a SQL file (comments dropped)."""
    return [s for s in sqlglot.parse(text, read="duckdb") if s is not None]


def cast_inside_generator(node):
    if not (isinstance(node, exp.Cast) and isinstance(node.this, exp.Explode)):
        return node
    to = node.to.sql(dialect="spark")
    inner = node.this.this
    if isinstance(inner, exp.GenerateSeries) or inner.key == "generateseries":
        # A series of months: its bounds in the target type (SEQUENCE of DATEs is
        # an array of DATEs), as a higher-order function cannot hold a subquery.
        for arg in ("start", "end"):
            bound = inner.args.get(arg)
            if isinstance(bound, exp.Cast):
                bound = bound.this
            inner.set(arg, exp.Cast(this=bound, to=node.to.copy()))
        return exp.Explode(this=inner)
    array = inner.sql(dialect="spark")
    return sqlglot.parse_one(f"EXPLODE(TRANSFORM({array}, x -> CAST(x AS {to})))", read="spark")


SPARK_REWRITES = [cast_inside_generator]


def spark_rewrites(sql):
    tree = sqlglot.parse_one(sql, read="spark")
    for rule in SPARK_REWRITES:
        tree = tree.transform(rule)
    return tree.sql(dialect="spark", comments=False)


def to_spark(tree, macros):
    """One SELECT (expression tree) as Spark SQL text."""
    return spark_rewrites(macros.expand(tree).sql(dialect="spark", comments=False))


def plan(stmt, macros):
    """What to do with one statement: ('macro', name, None) after recording it,
    ('table', name, spark_select) or ('view', name, spark_select) for a CREATE …
    AS SELECT, ('query', None, spark_select) for a query."""
    if is_macro(stmt):
        macros.define(stmt)
        return ("macro", stmt.this.this.name, None)
    if isinstance(stmt, exp.Create):
        kind = str(stmt.args.get("kind", "")).upper()
        name = stmt.this.name if isinstance(stmt.this, exp.Table) else stmt.this.this.name
        select = stmt.expression
        if select is None:
            raise ValueError(f"CREATE {kind} {name} without AS SELECT is not supported on Spark")
        return ("table" if kind == "TABLE" else "view", name, to_spark(select, macros))
    return ("query", None, to_spark(stmt, macros))
