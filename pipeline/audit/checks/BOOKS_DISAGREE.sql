-- Books agree (账账相符), docs/rules.md § Books agree:
-- (1) every fund-ledger flow, per month, account, category and direction, equals the
--     detail records behind it (both sides: fund_flows.sql). Amount: ledger − detail.
--     Fiscal subsidies are not such a flow (they agree with the finance bureau's
--     notices: FISCAL_DISAGREE); instead, per level, the contribution subsidies the
--     bureau's notices sent (purpose 缴费补贴), from the first notice's month to the
--     end of the audit month, must cover the individual accounts' government credits
--     (government_subsidy, kind contribution) of that time. Amount: received −
--     credited (negative). No notices at all: not compared.
-- (2) the sum of the individual accounts (the ledger's postings, a_account_event)
--     agrees with the fund's individual-account side, both as movements from the fund
--     ledger's first month to the end of the audit month, component by component.
--     Fund side: contributions (income and prepaid account), collective and
--     contribution subsidies (the subsidy categories in whichever account they are
--     booked — the fiscal account under 第四十条, the income account in older
--     books — less the basic-pension subsidies of government_subsidy),
--     transfers in, credited interest, less account pensions (less the part the
--     pooled fund bears), refunds, the government part returned at death and
--     transfers out. The fund ledger records no credited interest, pooled part or
--     government return (they move no money): those come from the ledger on both
--     sides. Needs the ledger run through the audit month (else not compared).
--     Amount: fund side − individual accounts.
WITH d AS (SELECT * FROM fund_detail_flow WHERE m <= as_of_month()),
l AS (SELECT * FROM fund_ledger_flow WHERE m <= as_of_month()),
span AS MATERIALIZED (SELECT min(date_trunc('month', txn_date))::DATE AS first_m FROM fund_ledger),
flows AS (
    SELECT coalesce(l.account, d.account) || ' ' || coalesce(l.category, d.category) || ' ' ||
               coalesce(l.direction, d.direction) || ' ' || ym(coalesce(l.m, d.m)) AS subject,
           NULL AS person_no, coalesce(l.m, d.m) AS month_from, coalesce(l.m, d.m) AS month_to,
           coalesce(l.amount, 0) - coalesce(d.amount, 0) AS amount_at_risk,
           coalesce(l.account, d.account) || ' ' || ym(coalesce(l.m, d.m)) || ' ' || coalesce(l.category, d.category) ||
           ' (' || coalesce(l.direction, d.direction) || '): fund_ledger ' || coalesce(l.amount, 0)::VARCHAR ||
           ' but detail records ' || coalesce(d.amount, 0)::VARCHAR AS evidence
    FROM l FULL OUTER JOIN d ON l.m = d.m AND l.account = d.account AND l.category = d.category AND l.direction = d.direction
    WHERE coalesce(l.amount, 0) <> coalesce(d.amount, 0)
      AND coalesce(l.m, d.m) >= (SELECT first_m FROM span)
),
covered AS MATERIALIZED (
    -- the ledger's expected payments reach the audit month: its postings do too
    SELECT (SELECT first_m FROM span) AS first_m
    WHERE (SELECT max(month) FROM a_expected) >= as_of_month() AND (SELECT first_m FROM span) IS NOT NULL
),
fl AS MATERIALIZED (
    -- one pass over each big table; the components are read from these few rows
    SELECT account, category, direction, sum(amount) AS amount
    FROM fund_ledger, covered
    WHERE txn_date >= covered.first_m AND txn_date <= as_of_end()
    GROUP BY ALL
),
ev AS MATERIALIZED (
    SELECT kind, holding, sum(amount) AS amount
    FROM a_account_event, covered
    WHERE date >= covered.first_m AND date <= as_of_end()
    GROUP BY ALL
),
f AS (
    SELECT sum(amount) FILTER (WHERE category = 'contribution' AND direction = 'in' AND account IN ('income', 'prepaid')) AS contributions,
           sum(amount) FILTER (WHERE category = 'collective' AND direction = 'in' AND account = 'income') AS collective,
           sum(amount) FILTER (WHERE category LIKE 'subsidy\_%' ESCAPE '\' AND direction = 'in') AS subsidies,
           sum(amount) FILTER (WHERE category = 'transfer_in' AND direction = 'in' AND account = 'income') AS transfer_in,
           sum(amount) FILTER (WHERE category = 'account_pension' AND direction = 'out' AND account = 'expenditure') AS account_pension,
           sum(amount) FILTER (WHERE category = 'refund' AND direction = 'out' AND account = 'expenditure') AS refund,
           sum(amount) FILTER (WHERE category = 'transfer_out' AND direction = 'out' AND account = 'expenditure') AS transfer_out
    FROM fl
),
basic AS MATERIALIZED (
    SELECT sum(amount) AS amount FROM government_subsidy, covered
    WHERE kind = 'basic_pension' AND credited_date >= covered.first_m AND credited_date <= as_of_end()
),
e AS (
    SELECT sum(amount) FILTER (WHERE (kind = 'credit' AND holding = 'individual') OR kind = 'prepaid_receipt') AS contributions,
           sum(amount) FILTER (WHERE kind = 'credit' AND holding = 'collective') AS collective,
           sum(amount) FILTER (WHERE kind = 'credit' AND holding = 'government') AS subsidies,
           sum(amount) FILTER (WHERE kind = 'credit' AND holding = 'transfer') AS transfer_in,
           sum(amount) FILTER (WHERE kind IN ('interest', 'settlement_interest') AND holding <> 'pooled') AS interest,
           sum(amount) FILTER (WHERE kind = 'pension_debit') AS account_pension,
           sum(amount) FILTER (WHERE kind = 'pooled') AS pooled,
           sum(amount) FILTER (WHERE kind = 'refund') AS refund,
           sum(amount) FILTER (WHERE kind = 'fund_return') AS fund_return,
           sum(amount) FILTER (WHERE kind = 'transfer_out') AS transfer_out
    FROM ev
),
comp AS (
    -- (order, component, fund side, individual accounts), signed as they move the balance
    SELECT 1 AS o, 'contributions' AS component, coalesce(f.contributions, 0) AS fund, coalesce(e.contributions, 0) AS acct FROM f, e, covered
    UNION ALL SELECT 2, 'collective subsidies', coalesce(f.collective, 0), coalesce(e.collective, 0) FROM f, e, covered
    UNION ALL SELECT 3, 'contribution subsidies', coalesce(f.subsidies, 0) - coalesce(basic.amount, 0), coalesce(e.subsidies, 0) FROM f, e, basic, covered
    UNION ALL SELECT 4, 'transfers in', coalesce(f.transfer_in, 0), coalesce(e.transfer_in, 0) FROM f, e, covered
    UNION ALL SELECT 5, 'credited interest (ledger)', coalesce(e.interest, 0), coalesce(e.interest, 0) FROM e, covered
    UNION ALL SELECT 6, 'account pensions', -(coalesce(f.account_pension, 0) - coalesce(e.pooled, 0)), coalesce(e.account_pension, 0) FROM f, e, covered
    UNION ALL SELECT 7, 'refunds', -coalesce(f.refund, 0), coalesce(e.refund, 0) FROM f, e, covered
    UNION ALL SELECT 8, 'government part returned at death (ledger)', coalesce(e.fund_return, 0), coalesce(e.fund_return, 0) FROM e, covered
    UNION ALL SELECT 9, 'transfers out', -coalesce(f.transfer_out, 0), coalesce(e.transfer_out, 0) FROM f, e, covered
),
liability AS (
    SELECT 'individual accounts ≠ fund liability' AS subject, NULL AS person_no,
           as_of_month() AS month_from, as_of_month() AS month_to,
           sum(fund) - sum(acct) AS amount_at_risk,
           'individual-account liability, movements ' || ym(any_value(covered.first_m)) || '..' || ym(as_of_month()) ||
           ': fund side ' || sum(fund)::VARCHAR || ' but individual accounts (ledger) ' || sum(acct)::VARCHAR ||
           '; differing: ' || string_agg(CASE WHEN fund <> acct THEN component || ' fund ' || fund::VARCHAR ||
                                              ', accounts ' || acct::VARCHAR END, '; ' ORDER BY o) AS evidence,
           'individual accounts: ' || string_agg(CASE WHEN fund <> acct THEN component || ' ' || (fund - acct)::VARCHAR END,
                                                 '; ' ORDER BY o) AS evidence_key
    FROM comp, covered
    HAVING sum(fund) <> sum(acct)
),
notice_span AS MATERIALIZED (
    SELECT min(date_trunc('month', date))::DATE AS first_m FROM fiscal_notice WHERE date <= as_of_end()
),
received AS (
    SELECT level, sum(amount) AS amount FROM fiscal_notice
    WHERE purpose = 'contribution' AND date <= as_of_end() GROUP BY ALL
),
credited AS (
    SELECT level, sum(amount) AS amount FROM government_subsidy, notice_span
    WHERE kind = 'contribution' AND credited_date >= notice_span.first_m AND credited_date <= as_of_end()
    GROUP BY ALL
),
coverage AS (
    SELECT 'fiscal subsidy_' || c.level || ' contribution subsidies not covered' AS subject, NULL AS person_no,
           notice_span.first_m AS month_from, as_of_month() AS month_to,
           coalesce(r.amount, 0) - c.amount AS amount_at_risk,
           'contribution subsidies, level ' || c.level || ', ' || ym(notice_span.first_m) || '..' || ym(as_of_month()) ||
           ': the finance bureau''s notices sent ' || coalesce(r.amount, 0)::VARCHAR ||
           ' (purpose 缴费补贴) but the individual accounts were credited ' || c.amount::VARCHAR ||
           ' (government_subsidy, kind 缴费补贴)' AS evidence
    FROM credited c LEFT JOIN received r USING (level), notice_span
    WHERE coalesce(r.amount, 0) < c.amount
)
SELECT * FROM flows
UNION ALL BY NAME
SELECT * FROM liability
UNION ALL BY NAME
SELECT * FROM coverage
