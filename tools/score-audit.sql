-- Scores the latest audit against a generated county's answer key.
-- Usage: put the path of the county's _truth/ground_truth.csv in place of the
-- placeholder in read_csv below, and pass the query after `--` (it starts with a
-- comment, which would otherwise read as an option):
--   pipeline --warehouse W sql -- "$(sed 's#@TRUTH@#county/_truth/ground_truth.csv#' tools/score-audit.sql)"
-- Person checks match on (check, person); book checks on (check, month within the
-- finding's months) — the rule tests/audit_county.rs applies on the test county.
-- `found_not_planted` counts findings of the check that no planted case explains.
WITH truth AS (
    SELECT check_code, nullif(person_no, '') AS person_no, month_from
    FROM read_csv('@TRUTH@', all_varchar = true)
), found AS (
    SELECT check_code, person_no, strftime(month_from, '%Y-%m') AS month_from,
           strftime(month_to, '%Y-%m') AS month_to
    FROM findings WHERE in_latest_audit
), hit AS (
    SELECT t.*, EXISTS (
        SELECT 1 FROM found f
        WHERE f.check_code = t.check_code
          AND (f.person_no = t.person_no
               OR (t.person_no IS NULL AND t.month_from BETWEEN f.month_from AND f.month_to))
    ) AS found
    FROM truth t
), extra AS (
    SELECT f.check_code, count(*) AS n FROM found f
    WHERE NOT EXISTS (
        SELECT 1 FROM truth t
        WHERE t.check_code = f.check_code
          AND (t.person_no = f.person_no
               OR (t.person_no IS NULL AND t.month_from BETWEEN f.month_from AND f.month_to)))
    GROUP BY 1
)
SELECT coalesce(h.check_code, e.check_code) AS check_code,
       coalesce(h.planted, 0) AS planted, coalesce(h.found, 0) AS found,
       round(100.0 * h.found / h.planted, 2) AS recall_pct,
       coalesce(e.n, 0) AS found_not_planted
FROM (SELECT check_code, count(*) AS planted, count(*) FILTER (WHERE found) AS found
      FROM hit GROUP BY 1) h
FULL JOIN extra e USING (check_code)
ORDER BY 1;
