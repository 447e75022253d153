-- Receipt books (收款收据): numbers used twice or outside every issued book; receipts
-- dated before their book was issued or after it was settled; numbers of a settled
-- book neither used nor voided; collected ≠ deposited; not settled by 25 Dec.
-- Numbers are text: a prefix and its trailing digits (receipt_prefix/receipt_n,
-- prelude.sql), so `A0012345` belongs to a book `A0012301`–`A0012400` only.
-- A number used twice spans the months of its uses; the amount at risk is what was
-- collected under it after its first use (by date). docs/rules.md § RECEIPT_GAP.
WITH used0 AS (
    SELECT receipt_no, receipt_prefix(receipt_no) AS prefix, receipt_n(receipt_no) AS n,
           person_no, paid_date, amount, voucher_no, _file_seq, _line
    FROM contribution
    WHERE channel = 'receipt' AND status = 'ok' AND receipt_no IS NOT NULL AND paid_date <= as_of_end()
), used1 AS (
    -- one receipt however its zeros were typed: its prefix and number (else its text)
    SELECT *, CASE WHEN n IS NULL THEN upper(trim(receipt_no)) END AS nokey FROM used0
), used AS MATERIALIZED (
    SELECT *,
           row_number() OVER (PARTITION BY prefix, n, nokey ORDER BY paid_date, _file_seq, _line) AS k,
           count(*) OVER (PARTITION BY prefix, n, nokey) AS uses
    FROM used1
), books AS MATERIALIZED (
    SELECT book_no, receipt_prefix(first_no) AS prefix, receipt_n(first_no) AS lo,
           CASE WHEN receipt_prefix(last_no) = receipt_prefix(first_no) THEN receipt_n(last_no) END AS hi,
           holder, township, issue_date, settle_date, amount_collected, amount_deposited,
           coalesce(voided, '') AS voided, coalesce(length(receipt_digits(first_no)), 8) AS width,
           settle_date IS NOT NULL AND settle_date <= as_of_end() AS settled
    FROM receipt_book
    WHERE issue_date IS NULL OR issue_date <= as_of_end()
    QUALIFY row_number() OVER (PARTITION BY book_no ORDER BY _file_seq DESC, _line DESC) = 1
), used_in AS MATERIALIZED (
    -- Books do not overlap: the book of a number is the last one of its prefix starting
    -- at or below it.
    SELECT u.*, CASE WHEN u.n <= b.hi THEN b.book_no END AS book_no,
           CASE WHEN u.n <= b.hi THEN b.issue_date END AS issue_date,
           CASE WHEN u.n <= b.hi THEN b.settle_date END AS settle_date
    FROM used u ASOF LEFT JOIN books b ON u.prefix = b.prefix AND u.n >= b.lo
), last_use AS (
    SELECT book_no, max(paid_date) AS last_paid, sum(amount) AS receipts_total, count(*) AS receipts
    FROM used_in WHERE book_no IS NOT NULL GROUP BY book_no
), dup AS (
    SELECT 'receipt ' || arg_min(receipt_no, k) || ' used twice' AS subject,
           date_trunc('month', min(paid_date))::DATE AS m,
           date_trunc('month', max(paid_date))::DATE AS m_to,
           sum(amount) FILTER (WHERE k > 1) AS amount,
           coalesce('book ' || any_value(book_no) || ': ', 'no book: ') || 'receipt ' || arg_min(receipt_no, k) ||
           ' used ' || any_value(uses) || ' times (' ||
           string_agg(receipt_no || ' ' || person_no || ' ' || paid_date::VARCHAR || ' ' || amount::VARCHAR, '; ' ORDER BY k) || ')' AS evidence,
           any_value(book_no) AS book_no
    FROM used_in WHERE uses > 1 GROUP BY prefix, n, nokey
), outside AS (
    SELECT 'receipt ' || arg_min(receipt_no, k) || ' outside books' AS subject,
           date_trunc('month', min(paid_date))::DATE AS m, date_trunc('month', max(paid_date))::DATE AS m_to,
           sum(amount) AS amount,
           'receipt ' || arg_min(receipt_no, k) || ' is outside every issued book (' ||
           string_agg(person_no || ' ' || paid_date::VARCHAR || ' ' || amount::VARCHAR, '; ' ORDER BY k) || ')' AS evidence,
           NULL AS book_no
    FROM used_in WHERE book_no IS NULL GROUP BY prefix, n, nokey
), off_dates AS (
    -- money taken on a form the holder did not yet hold, or after the book was settled
    SELECT 'receipt ' || arg_min(receipt_no, k) || ' outside its book''s dates' AS subject,
           date_trunc('month', min(paid_date))::DATE AS m, date_trunc('month', max(paid_date))::DATE AS m_to,
           sum(amount) AS amount,
           'book ' || any_value(book_no) || ' issued ' || coalesce(any_value(issue_date)::VARCHAR, '?') ||
           CASE WHEN any_value(settle_date) IS NOT NULL THEN ', settled ' || any_value(settle_date)::VARCHAR ELSE '' END ||
           ': receipt ' || arg_min(receipt_no, k) || ' dated ' ||
           string_agg(paid_date::VARCHAR || ' (' || person_no || ' ' || amount::VARCHAR || ', ' ||
                      CASE WHEN paid_date < issue_date THEN 'before the book was issued' ELSE 'after it was settled' END || ')',
                      '; ' ORDER BY k) AS evidence,
           any_value(book_no) AS book_no
    FROM used_in
    WHERE book_no IS NOT NULL AND (paid_date < issue_date OR paid_date > settle_date)
    GROUP BY prefix, n, nokey
), voided AS (
    SELECT b.book_no, receipt_n(v.x) AS n
    FROM books b, unnest(string_split(b.voided, ';')) AS v(x)
    WHERE trim(v.x) <> '' AND (receipt_prefix(v.x) = b.prefix OR receipt_prefix(v.x) = '')
), settled AS (
    SELECT * FROM books
    WHERE settled AND lo IS NOT NULL AND hi IS NOT NULL AND hi - lo < 100000
), numbers AS (
    SELECT b.book_no, r.x AS n FROM settled b, LATERAL (SELECT unnest(range(b.lo, b.hi + 1)) AS x) r
), missing_n AS (
    SELECT n.book_no, n.n FROM numbers n
    WHERE NOT EXISTS (SELECT 1 FROM used_in u WHERE u.book_no = n.book_no AND u.n = n.n)
      AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.book_no = n.book_no AND v.n = n.n)
), missing AS (
    SELECT 'book ' || b.book_no || ' missing numbers' AS subject,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m_to, NULL::DECIMAL(18,2) AS amount,
           'book ' || b.book_no || ' (' || b.township || ', ' || b.holder || ', settled ' || b.settle_date::VARCHAR ||
           '): receipt(s) ' || array_to_string(list(b.prefix || lpad(m.n::VARCHAR, b.width::INTEGER, '0') ORDER BY m.n)[1:20], ', ') ||
           ' neither used nor voided' AS evidence,
           b.book_no
    FROM missing_n m JOIN settled b USING (book_no)
    LEFT JOIN last_use l ON l.book_no = b.book_no
    GROUP BY b.book_no, b.township, b.holder, b.settle_date, l.last_paid, b.issue_date, b.width, b.prefix
), short AS (
    -- A settled book is judged on its receipts: what they add up to against what was
    -- deposited (the register's own "collected" column is only shown). A book still
    -- open is judged on its register columns, as the holder keeps them.
    SELECT 'book ' || b.book_no || ' collected ≠ deposited' AS subject,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m_to,
           coalesce(CASE WHEN b.settled THEN coalesce(l.receipts_total, 0) ELSE b.amount_collected END, 0)
               - coalesce(b.amount_deposited, 0) AS amount,
           'book ' || b.book_no || ' (' || b.township || ', ' || b.holder || '): ' ||
           CASE WHEN b.settled
                THEN 'settled ' || b.settle_date::VARCHAR || ', its ' || coalesce(l.receipts, 0) || ' receipt(s) total ' ||
                     coalesce(l.receipts_total, 0)::VARCHAR || ' (register says collected ' ||
                     coalesce(b.amount_collected::VARCHAR, '?') || ')'
                ELSE 'not settled, register says collected ' || coalesce(b.amount_collected::VARCHAR, '?') END ||
           ' but deposited ' || coalesce(b.amount_deposited::VARCHAR, '?') AS evidence,
           b.book_no
    FROM books b LEFT JOIN last_use l USING (book_no)
    WHERE CASE WHEN b.settled THEN coalesce(l.receipts_total, 0) IS DISTINCT FROM b.amount_deposited
               ELSE b.amount_collected IS DISTINCT FROM b.amount_deposited END
), unsettled AS (
    SELECT 'book ' || b.book_no || ' not settled' AS subject,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m_to, NULL::DECIMAL(18,2) AS amount,
           'book ' || b.book_no || ' (' || b.township || ', ' || b.holder || ') issued ' || b.issue_date::VARCHAR ||
           CASE WHEN b.settle_date IS NULL THEN ' and not settled' ELSE ' and settled only ' || b.settle_date::VARCHAR END ||
           ' by 25 December ' || year(b.issue_date) AS evidence,
           b.book_no
    FROM books b LEFT JOIN last_use l USING (book_no)
    WHERE b.issue_date IS NOT NULL
      AND make_date(year(b.issue_date), p_receipt_settle_month(), p_receipt_settle_day()) < as_of_end()
      AND (b.settle_date IS NULL
           OR b.settle_date > make_date(year(b.issue_date), p_receipt_settle_month(), p_receipt_settle_day()))
)
SELECT subject, NULL AS person_no, m AS month_from, m_to AS month_to, amount AS amount_at_risk, evidence
FROM (SELECT * FROM dup UNION ALL SELECT * FROM outside UNION ALL SELECT * FROM off_dates
      UNION ALL SELECT * FROM missing UNION ALL SELECT * FROM short UNION ALL SELECT * FROM unsettled)
