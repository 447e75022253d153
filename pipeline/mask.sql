-- Masking of personal numbers: the one definition (loaded by pipeline/mask.rs into
-- every connection that writes lists for people to read: the report package and the
-- audit export). What is hidden is the birth date, so a masked number still tells a
-- clerk which region and which registration it is, and no one can be identified:
--
--   an 18-character ID number       410101********1234   first 6, 8 hidden, last 4
--   a legacy 15-digit ID number     410101******123      first 6, 6 hidden, last 3
--   any other length of 11 or more  first 6, one * per hidden character, last 4
--   (a malformed number, as ID_INVALID findings carry)
--   shorter than 11 characters      as given: too short to be anyone's number
--
-- Inside free text (a finding's evidence) the same numbers are found by their shape:
-- a run of exactly 15 digits (a legacy ID), any number of 11 or more characters
-- quoted in backticks or after "ID " (how the checks write malformed ones; 8 stars
-- whatever the length), an 18-character ID, and a run of 19 or more digits (a bank
-- account: first 6, 9 stars, last 4). Runs of 16 or 17 digits are left alone: person
-- numbers (个人编号) are 16 digits and evidence names persons by them.

CREATE OR REPLACE TEMP MACRO masked_id(s) AS
    CASE WHEN s IS NULL OR length(s) < 11 THEN s
         WHEN length(s) = 15 THEN left(s, 6) || '******' || right(s, 3)
         ELSE left(s, 6) || repeat('*', length(s) - 10) || right(s, 4) END;

CREATE OR REPLACE TEMP MACRO masked_text(s) AS
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(s,
        '\b(\d{6})\d{6}(\d{3})\b', '\1******\2', 'g'),
        '`(\d{6})[0-9Xx]+([0-9Xx]{4})`', '`\1********\2`', 'g'),
        '\bID (\d{6})[0-9Xx]{5,}([0-9Xx]{4})\b', 'ID \1********\2', 'g'),
        '\b(\d{6})\d{8}(\d{3}[0-9Xx])\b', '\1********\2', 'g'),
        '\b(\d{6})\d{9,}(\d{4})\b', '\1*********\2', 'g');
