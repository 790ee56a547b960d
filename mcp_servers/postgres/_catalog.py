"""Catalog queries behind the metadata tools. Names are always bound parameters."""

from __future__ import annotations

LIST_DATABASES = """
SELECT d.datname AS database,
       pg_get_userbyid(d.datdba) AS owner,
       pg_encoding_to_char(d.encoding) AS encoding,
       CASE WHEN has_database_privilege(d.datname, 'CONNECT')
            THEN pg_size_pretty(pg_database_size(d.datname)) END AS size,
       d.datname = current_database() AS current
FROM pg_database d
WHERE NOT d.datistemplate
ORDER BY d.datname
"""

LIST_SCHEMAS = """
SELECT n.nspname AS schema,
       pg_get_userbyid(n.nspowner) AS owner,
       (SELECT count(*) FROM pg_class c
         WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) AS relations
FROM pg_namespace n
WHERE $1 OR (n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
             AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%')
ORDER BY n.nspname
"""

SCHEMA_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)"

LIST_TABLES = """
SELECT c.relname AS name,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'f' THEN 'foreign table' END AS kind,
       CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated_rows,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
       obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1
  AND c.relkind::text = ANY($2::text[])
ORDER BY c.relname
"""

# The table's oid, if the table (or view) exists; NULL otherwise.
RELATION_OID = """
SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
"""

DESCRIBE_COLUMNS = """
SELECT a.attname AS column,
       format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable,
       pg_get_expr(ad.adbin, ad.adrelid) AS default,
       col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

TABLE_COMMENT = "SELECT obj_description($1::oid, 'pg_class')"

CONSTRAINTS = """
SELECT con.conname AS name,
       CASE con.contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'f' THEN 'FOREIGN KEY'
                        WHEN 'u' THEN 'UNIQUE' WHEN 'c' THEN 'CHECK'
                        WHEN 'x' THEN 'EXCLUDE' WHEN 't' THEN 'TRIGGER' ELSE con.contype::text END AS type,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_constraint con
WHERE con.conrelid = $1
ORDER BY CASE con.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'f' THEN 2 ELSE 3 END, con.conname
"""

INDEXES = """
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition,
       pg_size_pretty(pg_relation_size(x.indexrelid)) AS size
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = $1
ORDER BY i.relname
"""

TABLE_STATS = """
SELECT c.reltuples::bigint AS estimated_rows,
       s.n_live_tup AS live_rows, s.n_dead_tup AS dead_rows,
       s.seq_scan, s.idx_scan,
       s.n_tup_ins AS inserted, s.n_tup_upd AS updated, s.n_tup_del AS deleted,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
       pg_size_pretty(pg_relation_size(c.oid)) AS table_size,
       pg_size_pretty(pg_indexes_size(c.oid)) AS indexes_size
FROM pg_class c
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
WHERE c.oid = $1
"""
