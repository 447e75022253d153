-- Government subsidies (政府补贴) credited over the period, by level and kind, and
-- the same period a year earlier.
WITH levels AS (
    SELECT * FROM (VALUES (1, 'central', '中央'), (2, 'province', '省级'), (3, 'city', '市级'), (4, 'county', '县级')) t(ord, level, level_zh)
), s AS (
    SELECT level, kind, amount, credited_date BETWEEN period_start() AND period_end() AS now
    FROM government_subsidy
    WHERE credited_date BETWEEN period_start() AND period_end() OR credited_date BETWEEN ly_start() AND ly_end()
)
SELECT l.level_zh AS level,
       coalesce(sum(amount) FILTER (WHERE now AND kind = 'contribution'), 0)::DECIMAL(18,2) AS contribution,
       coalesce(sum(amount) FILTER (WHERE now AND kind = 'basic_pension'), 0)::DECIMAL(18,2) AS basic_pension,
       coalesce(sum(amount) FILTER (WHERE now), 0)::DECIMAL(18,2) AS total,
       coalesce(sum(amount) FILTER (WHERE NOT now), 0)::DECIMAL(18,2) AS total_ly,
       coalesce(sum(amount) FILTER (WHERE now), 0)::DECIMAL(18,2) - coalesce(sum(amount) FILTER (WHERE NOT now), 0)::DECIMAL(18,2) AS change
FROM levels l LEFT JOIN s USING (level)
GROUP BY l.ord, l.level_zh ORDER BY l.ord
