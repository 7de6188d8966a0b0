-- Who did each write (issue 11: the signed-in person, crm.ui.auth.current_user).
-- NULL while the app is open (no sign-in configured), and for rows from the demo
-- data or an import (whose batch says who imported it). segments (005),
-- campaigns.updated_by (011), consent (009), deliveries (012) and
-- campaign_additions (008) have theirs already.
ALTER TABLE customers ADD COLUMN created_by VARCHAR;
ALTER TABLE customers ADD COLUMN updated_by VARCHAR;
ALTER TABLE orders ADD COLUMN created_by VARCHAR;
ALTER TABLE orders ADD COLUMN updated_by VARCHAR;
ALTER TABLE messages ADD COLUMN sent_by VARCHAR;
ALTER TABLE campaigns ADD COLUMN created_by VARCHAR;
ALTER TABLE campaign_sends ADD COLUMN added_by VARCHAR;
