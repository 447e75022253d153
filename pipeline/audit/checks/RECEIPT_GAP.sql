-- Receipt books (收款收据): numbers used twice or outside every issued book; numbers of a
-- settled book neither used nor voided; collected ≠ deposited; not settled by 25 Dec.
-- A number used twice spans the months of its uses; the amount at risk is what was
-- collected under it after its first use (by date).
WITH used AS MATERIALIZED (
    SELECT receipt_no, TRY_CAST(receipt_no AS BIGINT) AS n, person_no, paid_date, amount, voucher_no,
           row_number() OVER (PARTITION BY receipt_no ORDER BY paid_date, _file_seq, _line) AS k,
           count(*) OVER (PARTITION BY receipt_no) AS uses
    FROM contribution
    WHERE channel = 'receipt' AND status = 'ok' AND receipt_no IS NOT NULL AND paid_date <= as_of_end()
), books AS MATERIALIZED (
    SELECT book_no, TRY_CAST(first_no AS BIGINT) AS lo, TRY_CAST(last_no AS BIGINT) AS hi, holder, township,
           issue_date, settle_date, amount_collected, amount_deposited,
           coalesce(voided, '') AS voided, coalesce(length(first_no), 8) AS width
    FROM receipt_book
    WHERE issue_date IS NULL OR issue_date <= as_of_end()
    QUALIFY row_number() OVER (PARTITION BY book_no ORDER BY _file_seq DESC, _line DESC) = 1
), used_in AS MATERIALIZED (
    -- Books do not overlap: the book of a number is the last one starting at or below it.
    SELECT u.*, CASE WHEN u.n <= b.hi THEN b.book_no END AS book_no
    FROM used u ASOF LEFT JOIN books b ON u.n >= b.lo
), last_use AS (
    SELECT book_no, max(paid_date) AS last_paid FROM used_in WHERE book_no IS NOT NULL GROUP BY book_no
), dup AS (
    SELECT 'receipt ' || receipt_no || ' used twice' AS subject,
           date_trunc('month', min(paid_date))::DATE AS m,
           date_trunc('month', max(paid_date))::DATE AS m_to,
           sum(amount) FILTER (WHERE k > 1) AS amount,
           coalesce('book ' || any_value(book_no) || ': ', 'no book: ') || 'receipt ' || receipt_no || ' used ' || any_value(uses) || ' times (' ||
           string_agg(person_no || ' ' || paid_date::VARCHAR || ' ' || amount::VARCHAR, '; ' ORDER BY k) || ')' AS evidence,
           any_value(book_no) AS book_no
    FROM used_in WHERE uses > 1 GROUP BY receipt_no
), outside AS (
    SELECT 'receipt ' || receipt_no || ' outside books' AS subject,
           date_trunc('month', min(paid_date))::DATE AS m, date_trunc('month', max(paid_date))::DATE AS m_to,
           sum(amount) AS amount,
           'receipt ' || receipt_no || ' is outside every issued book (' ||
           string_agg(person_no || ' ' || paid_date::VARCHAR || ' ' || amount::VARCHAR, '; ' ORDER BY k) || ')' AS evidence,
           NULL AS book_no
    FROM used_in WHERE book_no IS NULL GROUP BY receipt_no
), voided AS (
    SELECT b.book_no, TRY_CAST(trim(v.x) AS BIGINT) AS n
    FROM books b, unnest(string_split(b.voided, ';')) AS v(x)
    WHERE trim(v.x) <> ''
), settled AS (
    SELECT * FROM books
    WHERE settle_date IS NOT NULL AND settle_date <= as_of_end() AND lo IS NOT NULL AND hi IS NOT NULL
      AND hi - lo < 100000
), numbers AS (
    SELECT b.book_no, r.x AS n FROM settled b, LATERAL (SELECT unnest(range(b.lo, b.hi + 1)) AS x) r
), missing_n AS (
    SELECT n.book_no, n.n FROM numbers n
    WHERE NOT EXISTS (SELECT 1 FROM used_in u WHERE u.n = n.n)
      AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.book_no = n.book_no AND v.n = n.n)
), missing AS (
    SELECT 'book ' || b.book_no || ' missing numbers' AS subject,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m_to, NULL::DECIMAL(18,2) AS amount,
           'book ' || b.book_no || ' (' || b.township || ', ' || b.holder || ', settled ' || b.settle_date::VARCHAR ||
           '): receipt(s) ' || array_to_string(list(lpad(m.n::VARCHAR, b.width::INTEGER, '0') ORDER BY m.n)[1:20], ', ') ||
           ' neither used nor voided' AS evidence,
           b.book_no
    FROM missing_n m JOIN settled b USING (book_no)
    LEFT JOIN last_use l ON l.book_no = b.book_no
    GROUP BY b.book_no, b.township, b.holder, b.settle_date, l.last_paid, b.issue_date, b.width
), short AS (
    SELECT 'book ' || b.book_no || ' collected ≠ deposited' AS subject,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m,
           date_trunc('month', coalesce(l.last_paid, b.issue_date))::DATE AS m_to,
           b.amount_collected - b.amount_deposited AS amount,
           'book ' || b.book_no || ' (' || b.township || ', ' || b.holder || '): collected ' ||
           b.amount_collected::VARCHAR || ' but deposited ' || b.amount_deposited::VARCHAR AS evidence,
           b.book_no
    FROM books b LEFT JOIN last_use l USING (book_no)
    WHERE b.amount_collected IS DISTINCT FROM b.amount_deposited
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
FROM (SELECT * FROM dup UNION ALL SELECT * FROM outside UNION ALL SELECT * FROM missing
      UNION ALL SELECT * FROM short UNION ALL SELECT * FROM unsettled)
