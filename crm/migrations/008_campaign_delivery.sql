-- Campaigns that are delivered for real and measured (issue 10).
--
-- campaign_sends gets two statuses: 'Sending' (claimed by a sender, outcome
-- not yet recorded: a crash leaves it there and nothing sends it again) and
-- 'Control' (held out at random, never sent anything, the baseline for lift),
-- plus the server's reason for a failure. DuckDB cannot change a CHECK
-- constraint, so the table is rebuilt with the same rows and ids.
CREATE TABLE campaign_sends_v8 (
    id             BIGINT PRIMARY KEY DEFAULT nextval('campaign_send_id_seq'),
    campaign_id    BIGINT NOT NULL,
    customer_id    BIGINT NOT NULL,
    -- When the send was delivered or failed; NULL while Queued, Sending or Control.
    sent_at        TIMESTAMP,
    status         VARCHAR NOT NULL
        CHECK (status IN ('Queued', 'Sending', 'Delivered', 'Failed', 'Control')),
    opens          INTEGER NOT NULL DEFAULT 0 CHECK (opens >= 0),
    clicks         INTEGER NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    -- When a sender claimed it (status Sending), so a stuck claim can be shown.
    claimed_at     TIMESTAMP,
    failure_reason VARCHAR,
    added_at       TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    -- The campaign_additions row that added it (NULL: added one at a time).
    addition_id    BIGINT,
    UNIQUE (campaign_id, customer_id)
);
INSERT INTO campaign_sends_v8 (id, campaign_id, customer_id, sent_at, status, opens, clicks, added_at)
SELECT id, campaign_id, customer_id, sent_at, status, opens, clicks,
       coalesce(sent_at, current_localtimestamp())
FROM campaign_sends;
DROP TABLE campaign_sends;
ALTER TABLE campaign_sends_v8 RENAME TO campaign_sends;
CREATE INDEX campaign_sends_customer_idx ON campaign_sends (customer_id);

-- A whole segment added at once: what was asked, what was skipped, and the
-- seed that drew the control group, so the draw can be repeated and audited.
CREATE SEQUENCE campaign_addition_id_seq START 1;
CREATE TABLE campaign_additions (
    id               BIGINT PRIMARY KEY DEFAULT nextval('campaign_addition_id_seq'),
    campaign_id      BIGINT NOT NULL,
    added_at         TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    added_by         VARCHAR,
    -- The segment as URL query parameters (JSON text, as segments.filters).
    filters          VARCHAR NOT NULL DEFAULT '{}',
    control_share    DECIMAL(4, 3) NOT NULL CHECK (control_share >= 0 AND control_share <= 0.5),
    seed             BIGINT NOT NULL,
    in_segment       BIGINT NOT NULL,
    skipped_member   BIGINT NOT NULL,
    skipped_consent  BIGINT NOT NULL,
    control          BIGINT NOT NULL,
    queued           BIGINT NOT NULL
);

-- The email's subject (merge fields allowed); the template is its body.
ALTER TABLE campaigns ADD COLUMN subject VARCHAR;
ALTER TABLE campaigns ALTER COLUMN subject SET DEFAULT '';
UPDATE campaigns SET subject = '';

-- Personalised messages are delivered too: 'Sending' while claimed, the
-- server's reason for a failure, and when it was delivered (sent_at is when
-- it was written and queued).
CREATE TABLE messages_v8 (
    id             BIGINT PRIMARY KEY DEFAULT nextval('message_id_seq'),
    customer_id    BIGINT NOT NULL,
    channel        VARCHAR NOT NULL DEFAULT 'Email' CHECK (channel IN ('Email', 'SMS')),
    subject        VARCHAR NOT NULL DEFAULT '',
    body           VARCHAR NOT NULL,
    sent_at        TIMESTAMP NOT NULL DEFAULT current_localtimestamp(),
    status         VARCHAR NOT NULL DEFAULT 'Queued'
        CHECK (status IN ('Queued', 'Sending', 'Sent', 'Failed')),
    claimed_at     TIMESTAMP,
    delivered_at   TIMESTAMP,
    failure_reason VARCHAR
);
INSERT INTO messages_v8 (id, customer_id, channel, subject, body, sent_at, status)
SELECT id, customer_id, channel, subject, body, sent_at, status FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v8 RENAME TO messages;
CREATE INDEX messages_customer_idx ON messages (customer_id);
