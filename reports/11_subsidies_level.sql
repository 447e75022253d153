-- Government subsidies (政府补贴) by level and kind, credited this month and this year.
WITH levels AS (
    SELECT * FROM (VALUES (1, 'central', '中央'), (2, 'province', '省级'), (3, 'city', '市级'), (4, 'county', '县级')) t(ord, level, level_zh)
), s AS (
    SELECT level, kind, amount, credited_date FROM government_subsidy
    WHERE credited_date BETWEEN year_start() AND report_end()
)
SELECT l.level_zh AS level,
       coalesce(sum(amount) FILTER (WHERE kind = 'contribution' AND credited_date >= report_month()), 0)::DECIMAL(18,2) AS contribution_month,
       coalesce(sum(amount) FILTER (WHERE kind = 'contribution'), 0)::DECIMAL(18,2) AS contribution_ytd,
       coalesce(sum(amount) FILTER (WHERE kind = 'basic_pension' AND credited_date >= report_month()), 0)::DECIMAL(18,2) AS basic_month,
       coalesce(sum(amount) FILTER (WHERE kind = 'basic_pension'), 0)::DECIMAL(18,2) AS basic_ytd,
       coalesce(sum(amount), 0)::DECIMAL(18,2) AS total_ytd
FROM levels l LEFT JOIN s USING (level)
GROUP BY l.ord, l.level_zh ORDER BY l.ord
