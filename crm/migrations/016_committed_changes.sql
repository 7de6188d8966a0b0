-- One row per committed write transaction, by any instance of the app
-- (crm.db.transaction adds it inside the transaction). Its count is the key
-- of the app's read caches: several app instances may write one MotherDuck
-- database, and a count read at the start of a page run changes whenever any
-- of them has written. Rows are only ever added (an UPDATE of one counter row
-- would make concurrent writers conflict on it); a row is a few bytes.
CREATE TABLE committed_changes (
    committed_at TIMESTAMP NOT NULL DEFAULT current_localtimestamp()
);
