-- Who sent it (issue 10, delivery by email): the person whose Send claimed a
-- campaign send or a personalised message, or who put an interrupted or failed
-- one back in the queue. NULL until sign-in exists, and for rows from before.
ALTER TABLE campaign_sends ADD COLUMN delivery_by VARCHAR;
ALTER TABLE messages ADD COLUMN delivery_by VARCHAR;
