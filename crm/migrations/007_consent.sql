-- Marketing consent (issue 10): per channel, Subscribed / Unsubscribed / Not
-- asked, with the time it last changed. Nothing is queued or delivered on a
-- channel the customer has not subscribed to (crm.consent). An ENUM rather
-- than a CHECK because DuckDB cannot add a column with a constraint; the enum
-- refuses any other value all the same. Push has no consent of its own here:
-- the device's permission is the opt-in.
CREATE TYPE consent_status AS ENUM ('Subscribed', 'Unsubscribed', 'Not asked');

ALTER TABLE customers ADD COLUMN email_consent consent_status;
ALTER TABLE customers ALTER COLUMN email_consent SET DEFAULT 'Not asked';
ALTER TABLE customers ADD COLUMN email_consent_at TIMESTAMP;
ALTER TABLE customers ADD COLUMN sms_consent consent_status;
ALTER TABLE customers ALTER COLUMN sms_consent SET DEFAULT 'Not asked';
ALTER TABLE customers ADD COLUMN sms_consent_at TIMESTAMP;

-- Customers stored before consent was asked: not asked.
UPDATE customers SET email_consent = 'Not asked', sms_consent = 'Not asked';
