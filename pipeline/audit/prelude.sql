-- Shared tables every check reads, built once per run. The macros as_of_month(),
-- as_of_end() and the parameters p_*() are defined by the engine before this runs;
-- a_payout_src is `payout` (plus the rows being screened, for `pipeline screen`);
-- a_expected is the ledger's expected_payout (empty when the ledger has not run);
-- a_death (death.sql, run just before) is every person's death, from all its sources.

-- A receipt number read as text: an optional prefix and its trailing digits
-- (`A0012345` → prefix `A`, number 12345), so that prefixed numbers are neither lost
-- nor confused with another series (docs/rules.md § RECEIPT_GAP).
-- A number of digits only (the common case, millions of receipts at a large county)
-- takes the fast path of a cast; the string functions only read the others.
CREATE OR REPLACE TEMP MACRO receipt_prefix(x) AS CASE WHEN TRY_CAST(x AS UBIGINT) IS NOT NULL THEN ''
    ELSE rtrim(upper(trim(x)), '0123456789') END;
CREATE OR REPLACE TEMP MACRO receipt_digits(x) AS substr(upper(trim(x)), length(rtrim(upper(trim(x)), '0123456789')) + 1);
CREATE OR REPLACE TEMP MACRO receipt_n(x) AS coalesce(TRY_CAST(TRY_CAST(x AS UBIGINT) AS BIGINT),
                                                      TRY_CAST(receipt_digits(x) AS BIGINT));

-- A place name compared tolerant of how it was typed (docs/rules.md § SHARED_ACCOUNT):
-- full-width letters and digits folded to half width, every space (both widths)
-- removed, and the administrative suffixes of a village (村, 村委会, 村民委员会,
-- 居委会, 居民委员会, 社区, 社区居委会) or a township office (办事处, 人民政府)
-- stripped, twice for "王村村委会" (a name never becomes empty).
CREATE OR REPLACE TEMP MACRO place_fold(x) AS regexp_replace(
    translate(coalesce(x, ''),
              '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ（）',
              '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz()'),
    '[\s\x{3000}\x{00A0}]+', '', 'g');
CREATE OR REPLACE TEMP MACRO place_strip(x) AS CASE
    WHEN regexp_replace(x, '(社区居委会|村民委员会|居民委员会|村委会|居委会|社区|村|办事处|人民政府)$', '') = '' THEN x
    ELSE regexp_replace(x, '(社区居委会|村民委员会|居民委员会|村委会|居委会|社区|村|办事处|人民政府)$', '') END;
CREATE OR REPLACE TEMP MACRO norm_place(x) AS place_strip(place_strip(place_fold(x)));

-- Basic pension standard in force per period (newest file wins for a from_month).
CREATE OR REPLACE TABLE a_std AS
SELECT from_month,
       lead(from_month, 1, DATE '9999-12-01') OVER (ORDER BY from_month) AS until_month,
       amount
FROM (SELECT from_month, arg_max(amount, _file_seq) AS amount
      FROM basic_pension_standard GROUP BY from_month);

-- The standard in force for every month up to the audit month (an equality join is
-- far cheaper than a range join over millions of payments).
CREATE OR REPLACE TABLE a_std_month AS
SELECT unnest(generate_series(from_month::TIMESTAMP,
                              least((until_month - INTERVAL 1 MONTH)::DATE, as_of_month())::TIMESTAMP,
                              INTERVAL 1 MONTH))::DATE AS month,
       amount
FROM a_std WHERE from_month <= as_of_month();

-- The public-security register (newest snapshot), one row per ID.
CREATE OR REPLACE TABLE a_reg AS
SELECT id_number, name, sex, birth_date, township, village, status, status_date
FROM id_registry
QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY _line DESC) = 1;

-- Employee-pension spells and prison terms by ID, as month ranges.
-- A spell marked ended (终止) without an end date ran for months nobody recorded:
-- `end_unknown` (docs/rules.md § DUAL_PENSION: for review, never an amount).
CREATE OR REPLACE TABLE a_emp AS
SELECT id_number, status, employer, start_date, end_date,
       date_trunc('month', start_date)::DATE AS from_month,
       date_trunc('month', end_date)::DATE AS to_month,
       status = 'ended' AND end_date IS NULL AS end_unknown
FROM employee_pension WHERE start_date <= as_of_end();

CREATE OR REPLACE TABLE a_inmate AS
SELECT id_number, start_date, end_date,
       date_trunc('month', start_date)::DATE AS from_month,
       date_trunc('month', end_date)::DATE AS to_month
FROM inmate WHERE start_date <= as_of_end();

CREATE OR REPLACE TABLE a_susp AS
SELECT person_no, reason, start_month, end_month
FROM suspension WHERE start_month <= as_of_month();

-- One row per enrolled person: the enrollment (newest row), its current contact
-- details after change records, the register, death, cancellation and approval.
CREATE OR REPLACE TABLE a_person AS
WITH e AS (
    SELECT * FROM enrollment
    WHERE enroll_date IS NULL OR enroll_date <= as_of_end()
    QUALIFY row_number() OVER (PARTITION BY person_no ORDER BY _file_seq DESC, _line DESC) = 1
), ch AS (
    SELECT person_no, field, new_value FROM change
    WHERE change_date <= as_of_end()
      AND field IN ('village', 'bank_account', 'phone', 'address')
    QUALIFY row_number() OVER (PARTITION BY person_no, field
                               ORDER BY change_date DESC, _file_seq DESC, _line DESC) = 1
), chp AS (
    SELECT person_no,
           max(new_value) FILTER (WHERE field = 'village') AS village,
           max(new_value) FILTER (WHERE field = 'bank_account') AS bank_account,
           max(new_value) FILTER (WHERE field = 'phone') AS phone,
           max(new_value) FILTER (WHERE field = 'address') AS address
    FROM ch GROUP BY person_no
), c AS (
    SELECT person_no, reason, event_date, apply_date FROM cancellation
    WHERE apply_date <= as_of_end()
    QUALIFY row_number() OVER (PARTITION BY person_no ORDER BY apply_date, _file_seq, _line) = 1
), a AS (
    SELECT person_no, start_month, basic_monthly, account_monthly, approve_date FROM benefit_approval
    WHERE start_month <= as_of_month()
    QUALIFY row_number() OVER (PARTITION BY person_no
                               ORDER BY approve_date DESC NULLS LAST, _file_seq DESC, _line DESC) = 1
), base AS (
    SELECT e.*, coalesce(e._flags, '') NOT LIKE '%ID_INVALID%' AS id_ok FROM e
)
SELECT e.person_no, e.id_number, e.id_number_legacy15 AS id_legacy15, e.id_ok AS id_valid,
       CASE WHEN NOT e.id_ok THEN regexp_extract(e._flags, 'ID_INVALID: ([^|]*)', 1) END AS id_problem,
       e.name, e.sex, e.birth_date, e.township,
       coalesce(chp.village, e.village) AS village, e.enroll_date,
       coalesce(chp.bank_account, e.bank_account) AS bank_account,
       coalesce(chp.phone, e.phone) AS phone,
       coalesce(chp.address, e.address) AS address,
       r.id_number IS NOT NULL AS registered,
       r.name AS reg_name, r.sex AS reg_sex, r.birth_date AS reg_birth,
       r.township AS reg_township, r.village AS reg_village,
       r.status AS reg_status, r.status_date AS reg_status_date,
       d.death_date, d.death_evidence,
       coalesce(r.birth_date,
                CASE WHEN e.id_ok THEN try_strptime(substr(e.id_number, 7, 8), '%Y%m%d')::DATE END,
                e.birth_date) AS birth,
       c.reason AS cancel_reason, c.event_date AS cancel_event, c.apply_date AS cancel_apply,
       a.start_month AS appr_start, a.account_monthly AS appr_account, a.basic_monthly AS appr_basic
FROM base e
LEFT JOIN chp USING (person_no)
LEFT JOIN a_reg r ON e.id_ok AND r.id_number = e.id_number
LEFT JOIN a_death d USING (person_no)
LEFT JOIN c USING (person_no)
LEFT JOIN a USING (person_no);

-- The cross-county findings the province sent back (province_finding, its
-- 回县核查/<county>.csv), each seen from this county's side: the side whose person
-- number is enrolled here under that ID number. The amount is this county's to
-- recover only on the finding's own side (`county`: the later claim, the county that
-- paid after the death); on the other side the finding is to verify, with no amount.
-- A row neither of whose persons is enrolled here is kept without a person (nothing
-- dropped): the death-recording county of PAID_AFTER_DEATH_ELSEWHERE, or a file sent
-- to the wrong county. docs/rules.md § Province: back to the counties.
CREATE OR REPLACE TABLE a_province AS
WITH here AS (SELECT DISTINCT person_no, id_number FROM enrollment),
f AS (
    SELECT p.*, a.person_no AS as_county, b.person_no AS as_other
    FROM province_finding p
    LEFT JOIN here a ON a.person_no = p.person_no AND a.id_number = p.id_number
    LEFT JOIN here b ON b.person_no = p.other_person_no AND b.id_number = p.id_number
)
SELECT check_code,
       concat_ws('|', id_number, county, person_no, other_county) AS subject,
       coalesce(as_county, as_other) AS person_no, month_from, month_to,
       CASE WHEN as_county IS NOT NULL THEN amount_at_risk END AS amount_at_risk,
       'province cross-county check (省级跨地区比对): ' || coalesce(evidence, '') ||
       CASE WHEN as_county IS NOT NULL THEN ''
            WHEN as_other IS NOT NULL THEN '; this county is the other side (' || other_county || ', ' || as_other ||
                 '): verify with ' || county || coalesce(', which is to recover ' || amount_at_risk::VARCHAR, '')
            ELSE '; ID ' || id_number || ': neither ' || county || ' ' || person_no ||
                 coalesce(' nor ' || other_county || ' ' || other_person_no, '') ||
                 ' is enrolled here (this county recorded the death, or the file is another county''s)'
       END AS evidence
FROM f;

-- Successful payments through the audit month, per person and bank account: one
-- pass over the payouts, which are never copied in memory. SHARED_ACCOUNT and
-- ID_UNKNOWN read this; a_paid_person sums it per person. The four bit sets mark
-- the months paid (month index mod 256): a person paid n times whose bits number n
-- was paid at most once a month; otherwise the person is a DUP_PAYMENT candidate.
CREATE OR REPLACE TABLE a_paid_bank AS
WITH p AS (
    SELECT person_no, bank_account, total_amount, month, mi(month) % 256 AS b
    FROM a_payout_src
    WHERE status = 'ok' AND month <= as_of_month()
)
SELECT person_no, bank_account, count(*) AS n, sum(total_amount) AS total, min(month) AS m0, max(month) AS m1,
       bit_or(CASE WHEN b < 64 THEN (1::UBIGINT << b) ELSE 0::UBIGINT END) AS w0,
       bit_or(CASE WHEN b >= 64 AND b < 128 THEN (1::UBIGINT << (b - 64)) ELSE 0::UBIGINT END) AS w1,
       bit_or(CASE WHEN b >= 128 AND b < 192 THEN (1::UBIGINT << (b - 128)) ELSE 0::UBIGINT END) AS w2,
       bit_or(CASE WHEN b >= 192 THEN (1::UBIGINT << (b - 192)) ELSE 0::UBIGINT END) AS w3
FROM p
GROUP BY person_no, bank_account;

CREATE OR REPLACE TABLE a_paid_person AS
SELECT person_no, sum(n) AS n, sum(total) AS total, min(m0) AS m0, max(m1) AS m1,
       bit_count(bit_or(w0))::INTEGER + bit_count(bit_or(w1))::INTEGER + bit_count(bit_or(w2))::INTEGER
           + bit_count(bit_or(w3))::INTEGER < sum(n) AS dup_candidate
FROM a_paid_bank GROUP BY person_no;

-- Months paid more than once: k = 1 is the payment of its month (the earliest), k > 1
-- a repeat (DUP_PAYMENT). Only the candidates' payments are ranked.
CREATE OR REPLACE TABLE a_dupk AS
WITH cand_rows AS (
    SELECT person_no, month, paid_date, payout_no, _screen, _file_seq, _line,
           count(*) OVER (PARTITION BY person_no, month) AS times
    FROM a_payout_src
    WHERE status = 'ok' AND month <= as_of_month()
      AND person_no IN (SELECT person_no FROM a_paid_person WHERE dup_candidate)
)
SELECT person_no, month, paid_date, payout_no, _screen, _file_seq, _line,
       row_number() OVER (PARTITION BY person_no, month
                          ORDER BY paid_date, _screen NULLS FIRST, _file_seq, _line) AS k
FROM cand_rows WHERE times > 1;

-- First passed certification per person and certification year.
CREATE OR REPLACE TABLE a_cert AS
SELECT person_no, year, min(cert_date) AS first_pass
FROM certification WHERE result = 'pass' GROUP BY person_no, year;

-- Months in which each paid person was covered by an employee-pension spell, in
-- prison (register, or a 服刑 suspension: start .. the month before resumption), or
-- under a suspension of any reason (from its start month on, with its end month).
CREATE OR REPLACE TABLE a_cover AS
WITH paid AS (SELECT person_no FROM a_paid_person),
ppl AS (
    SELECT p.person_no, p.id_number FROM a_person p JOIN paid USING (person_no) WHERE p.id_valid
), spans AS (
    SELECT ppl.person_no, e.from_month AS m0, coalesce(e.to_month, as_of_month()) AS m1,
           CASE WHEN e.end_unknown THEN 'emp_unknown' ELSE 'emp' END AS kind, NULL::DATE AS until
    FROM a_emp e JOIN ppl USING (id_number)
    UNION ALL
    SELECT ppl.person_no, i.from_month, coalesce(i.to_month, as_of_month()), 'prison', NULL
    FROM a_inmate i JOIN ppl USING (id_number)
    UNION ALL
    SELECT s.person_no, s.start_month, coalesce((s.end_month - INTERVAL 1 MONTH)::DATE, as_of_month()), 'prison', NULL
    FROM a_susp s JOIN paid USING (person_no) WHERE s.reason = 'prison'
    UNION ALL
    SELECT s.person_no, s.start_month, as_of_month(), 'susp_' || s.reason, s.end_month
    FROM a_susp s JOIN paid USING (person_no)
), months AS (
    SELECT person_no, kind, until,
           unnest(generate_series(m0::TIMESTAMP, least(m1, as_of_month())::TIMESTAMP, INTERVAL 1 MONTH))::DATE AS month
    FROM spans WHERE m0 <= as_of_month()
)
SELECT person_no, month,
       bool_or(kind = 'emp') AS emp,
       -- only an ended spell with no end date touches the month (DUAL_PENSION, for review)
       bool_or(kind = 'emp_unknown') AS emp_unknown,
       bool_or(kind = 'prison') AS prison,
       -- some suspension (any reason) covers the month
       bool_or(kind LIKE 'susp_%' AND (until IS NULL OR month < until)) AS suspended_month,
       -- an uncertified/other suspension of this month is in force until (open: far future)
       max(CASE WHEN kind LIKE 'susp_%' AND kind <> 'susp_prison' THEN coalesce(until, DATE '9999-12-01') END) AS other_until
FROM months GROUP BY person_no, month;

-- The ledger's expected rows that say something the fallbacks of a_payeval do not:
-- a payment takes the account pension of its month from a_expected, else the
-- person's approved one, and the basic standard from a_expected when positive, else
-- the month's standard. A row whose values equal those fallbacks changes nothing, so
-- only the others are kept: a_payeval then joins its payments (tens of millions at a
-- large county) with a small table instead of one row per person and month, whose
-- hash table did not fit the audit's memory and spilled to disk.
CREATE OR REPLACE TABLE a_expected_diff AS
SELECT x.person_no, x.month, x.basic_standard, x.account_pension
FROM a_expected x
LEFT JOIN a_person p USING (person_no)
LEFT JOIN a_std_month s ON s.month = x.month
WHERE x.month <= as_of_month()
  AND (coalesce(x.account_pension, p.appr_account) IS DISTINCT FROM p.appr_account
       OR coalesce(CASE WHEN x.basic_standard > 0 THEN x.basic_standard END, s.amount) IS DISTINCT FROM s.amount);

-- The payments that some payment check flags, with what each check says of them.
CREATE OR REPLACE TABLE a_payeval AS
WITH y AS (
    SELECT y.person_no, y.month, y.total_amount AS total, y.paid_date, y._screen,
           coalesce(d.k, 1) AS k
    FROM a_payout_src y
    LEFT JOIN a_dupk d ON d.person_no = y.person_no AND d.month = y.month AND d._file_seq = y._file_seq
                      AND d._line = y._line AND d._screen IS NOT DISTINCT FROM y._screen
    WHERE y.status = 'ok' AND y.month <= as_of_month()
), b AS (
    SELECT y.*, p.id_number, coalesce(p.id_valid, false) AS id_valid, p.death_date, p.birth,
           p.appr_start,
           coalesce(x.account_pension, p.appr_account) AS appr_account,
           coalesce(CASE WHEN x.basic_standard > 0 THEN x.basic_standard END, s.amount) AS std_amount,
           c.first_pass,
           coalesce(v.emp, false) AS emp, coalesce(v.emp_unknown, false) AS emp_unknown,
           coalesce(v.prison, false) AS prison,
           coalesce(v.suspended_month, false) AS suspended_month, v.other_until
    FROM y
    LEFT JOIN a_person p USING (person_no)
    LEFT JOIN a_std_month s ON s.month = y.month
    LEFT JOIN a_cert c ON c.person_no = y.person_no AND c.year = year(y.month)
    LEFT JOIN a_expected_diff x ON x.person_no = y.person_no AND x.month = y.month
    LEFT JOIN a_cover v ON v.person_no = y.person_no AND v.month = y.month
), f AS (
    SELECT b.*,
        b.k > 1 AS f_dup,
        b.k = 1 AND b.death_date IS NOT NULL AND b.month > date_trunc('month', b.death_date) AS f_after_death,
        b.k = 1 AND b.emp AS f_dual,
        b.k = 1 AND NOT b.emp AND b.emp_unknown AS f_dual_review,
        b.k = 1 AND b.birth IS NOT NULL AND mi(b.month) < mi(b.birth) + p_pension_age() * 12 + 1 AS f_underage,
        b.k = 1 AND b.prison AS f_prison,
        b.k = 1 AND b.other_until IS NOT NULL AND b.paid_date < b.other_until AS f_suspended,
        b.k = 1 AND month(b.month) >= p_cert_first_month() AND b.appr_start IS NOT NULL
            AND year(b.month) > year(b.appr_start)
            AND (b.first_pass IS NULL OR b.first_pass > b.paid_date)
            AND NOT b.suspended_month AS f_uncertified,
        CASE WHEN b.appr_account IS NOT NULL AND b.std_amount IS NOT NULL
             THEN b.std_amount + b.appr_account END AS due,
        b.k = 1 AND (b.appr_account IS NULL OR b.std_amount IS NULL
                     OR b.total <> b.std_amount + b.appr_account) AS f_amount
    FROM b
)
SELECT * FROM f
WHERE f_dup OR f_after_death OR f_dual OR f_dual_review OR f_underage OR f_prison OR f_suspended OR f_uncertified OR f_amount;

-- The findings of this run, before identities and statuses are attached.
CREATE OR REPLACE TABLE a_raw (
    check_code VARCHAR, subject VARCHAR, person_no VARCHAR, id_number VARCHAR, name VARCHAR,
    township VARCHAR, village VARCHAR, month_from DATE, month_to DATE,
    amount_at_risk DECIMAL(18,2), evidence VARCHAR,
    -- What identifies the evidence when `evidence` also carries running totals (a
    -- dismissed finding reopens when this changes, not when one more month is paid).
    evidence_key VARCHAR);
