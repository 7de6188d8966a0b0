-- Who last changed a customer's marketing consent, per channel (issue 10/11:
-- every write says who made it). NULL until sign-in exists, and for consent
-- set by the demo data or an import.
ALTER TABLE customers ADD COLUMN email_consent_by VARCHAR;
ALTER TABLE customers ADD COLUMN sms_consent_by VARCHAR;
