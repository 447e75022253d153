-- The two sides of "books agree" (账账相符), per month, account, category and
-- direction: what the fund ledger records, and what the detail records behind it
-- add up to. Shared by the audit check BOOKS_DISAGREE and the monthly report
-- (reports/12_books_agree.sql). Needs the macro p_prepaid_carry_month().
-- Fiscal subsidies are not among these flows: they arrive in the fiscal special
-- account (第四十条), one line per finance-bureau transfer mixing contribution
-- subsidies and basic-pension money, so they are compared with the bureau's notices
-- (fiscal_pair below, FISCAL_DISAGREE) and, in BOOKS_DISAGREE, cover the accounts'
-- government credits (docs/rules.md § Books agree).
CREATE OR REPLACE TEMP VIEW fund_detail_flow AS
-- Each big table is read once and summed per month before the union (payout gives
-- both pension categories, contribution its three flows): the same sums as adding
-- the rows themselves, without carrying tens of millions of rows into one grouping.
WITH contrib AS (
    SELECT date_trunc('month', paid_date)::DATE AS m, kind = 'prepay' AS prepay,
           CASE WHEN kind = 'prepay' THEN year END AS year, sum(amount) AS amount
    FROM contribution WHERE status = 'ok' AND kind IS NOT NULL GROUP BY ALL
), paid AS (
    SELECT date_trunc('month', paid_date)::DATE AS m, sum(basic_amount) AS basic, sum(account_amount) AS account
    FROM payout WHERE status = 'ok' GROUP BY ALL
), detail AS (
    SELECT m, 'income' AS account, 'contribution' AS category, 'in' AS direction, amount
        FROM contrib WHERE NOT prepay
    UNION ALL SELECT m, 'prepaid', 'contribution', 'in', amount FROM contrib WHERE prepay
    UNION ALL SELECT make_date(year, p_prepaid_carry_month(), 1), 'prepaid', 'prepaid_carry', 'out', amount
        FROM contrib WHERE prepay
    UNION ALL SELECT date_trunc('month', paid_date), 'income', 'collective', 'in', sum(amount)
        FROM collective_subsidy GROUP BY ALL
    UNION ALL SELECT date_trunc('month', date), 'income', 'transfer_in', 'in', amount FROM transfer WHERE direction = 'in'
    UNION ALL SELECT date_trunc('month', date), 'expenditure', 'transfer_out', 'out', amount FROM transfer WHERE direction = 'out'
    -- A transfer out is one outflow (转移支出): its cancellation's refund_amount is the
    -- same money as the transfer record, so it is no refund; it stands for the
    -- transfer only when the person has no transfer-out record.
    UNION ALL SELECT date_trunc('month', apply_date), 'expenditure', 'refund', 'out', refund_amount
        FROM cancellation WHERE refund_amount > 0 AND reason <> 'transfer_out'
    UNION ALL SELECT date_trunc('month', apply_date), 'expenditure', 'transfer_out', 'out', refund_amount
        FROM cancellation c WHERE refund_amount > 0 AND reason = 'transfer_out'
          AND NOT EXISTS (SELECT 1 FROM transfer x WHERE x.person_no = c.person_no AND x.direction = 'out')
    UNION ALL SELECT m, 'expenditure', 'basic_pension', 'out', basic FROM paid
    UNION ALL SELECT m, 'expenditure', 'account_pension', 'out', account FROM paid
)
SELECT m, account, category, direction, sum(amount) AS amount FROM detail GROUP BY ALL;

CREATE OR REPLACE TEMP VIEW fund_ledger_flow AS
SELECT date_trunc('month', txn_date)::DATE AS m, account, category, direction, sum(amount) AS amount
FROM fund_ledger
WHERE (account = 'income' AND category IN ('contribution', 'collective', 'transfer_in'))
   OR (account = 'prepaid' AND category IN ('contribution', 'prepaid_carry'))
   OR (account = 'expenditure' AND category IN ('transfer_out', 'refund', 'basic_pension', 'account_pension'))
GROUP BY ALL;

-- Working days (Monday–Friday; public holidays are not modelled) after day a up to and
-- including day b: a Friday's notice booked the next Monday is 1 working day late.
-- weekdays_before(d) counts the weekdays from Monday 2000-01-03 up to the day before d.
CREATE OR REPLACE TEMP MACRO weekdays_before(d) AS
    (5 * ((d - DATE '2000-01-03') // 7) + least((d - DATE '2000-01-03') % 7, 5));
CREATE OR REPLACE TEMP MACRO working_days_after(a, b) AS
    (weekdays_before(b + 1) - weekdays_before(a + 1));

-- The finance bureau's notices (fiscal_notice) and the fiscal-subsidy income booked in
-- the fiscal special account (fund_ledger account fiscal, category subsidy_<level>,
-- in), one row per notice or book line, each with the line it is matched to (the
-- match_* columns; NULL when unmatched). A book line matches a notice of the same
-- level and amount dated on or before it, the nearest first, each line at most once:
-- per level and amount, in date order (a notice before a book line of the same day),
-- a book line takes the latest notice still open — brackets matched (the nearest
-- pair first is the same pairing), computed with running sums: `lvl` is the bracket
-- level (open notices after a notice, before a book line), and the k-th notice of a
-- level pairs with its k-th book line. A book line with no open notice (lvl 0) stays
-- unmatched. Matching is in time order, so the
-- pairs dated up to a day are the pairs the data up to that day gives: a check as of
-- a month end counts a match only when both lines are dated by then.
CREATE OR REPLACE TEMP VIEW fiscal_pair AS
WITH ev AS (
    SELECT 'notice' AS side, level, date, amount, notice_no AS ref, purpose, _file AS file, _line AS line
    FROM fiscal_notice
    UNION ALL
    SELECT 'book', substr(category, 9), txn_date, amount, voucher_no, NULL, _file, _line
    FROM fund_ledger
    WHERE account = 'fiscal' AND direction = 'in' AND category LIKE 'subsidy\_%' ESCAPE '\'
), run AS (
    SELECT *, sum(CASE side WHEN 'notice' THEN 1 ELSE -1 END)
                  OVER (PARTITION BY level, amount ORDER BY date, side = 'book', ref, file, line
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS s
    FROM ev
), low AS (
    -- the lowest running sum before the line (never above 0): book lines that found
    -- no open notice pushed it down
    SELECT *, least(0, coalesce(min(s) OVER (PARTITION BY level, amount ORDER BY date, side = 'book', ref, file, line
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)) AS low
    FROM run
), lv AS (
    -- a notice opens level s − low; a book line closes the level it finds open
    -- (s + 1 − low), 0 when none is open
    SELECT *, s - low + CASE side WHEN 'book' THEN 1 ELSE 0 END AS lvl FROM low
), k AS (
    SELECT *, row_number() OVER (PARTITION BY level, amount, lvl, side
                                 ORDER BY date, ref, file, line) AS k
    FROM lv
)
SELECT a.side, a.level, a.date, a.amount, a.ref, a.purpose, a.file, a.line,
       b.date AS match_date, b.ref AS match_ref, b.file AS match_file, b.line AS match_line
FROM k a
LEFT JOIN k b ON b.level = a.level AND b.amount = a.amount AND b.lvl = a.lvl AND b.k = a.k
             AND b.side <> a.side AND a.lvl > 0;
