-- Campaign names become unique per channel, case-insensitively (the index is
-- migration 003: DuckDB refuses to create an index in the transaction that
-- updated the table). Two "Dup Campaign" Email campaigns could not be told
-- apart in the campaign picker.
--
-- A database written before this rule may hold duplicates. The oldest of each
-- keeps its name; later ones become "Name (2)", "Name (3)", ... or, where that
-- name is already taken, "Name (campaign 17)" with the campaign's own id.
UPDATE campaigns
SET name = renamed.name
FROM (
    SELECT numbered.id,
           CASE WHEN EXISTS (
                    SELECT 1 FROM campaigns AS taken
                    WHERE taken.channel = numbered.channel
                      AND lower(taken.name) = lower(numbered.candidate))
                THEN numbered.name || ' (campaign ' || numbered.id || ')'
                ELSE numbered.candidate
           END AS name
    FROM (
        SELECT id, channel, name, name || ' (' || nth || ')' AS candidate, nth
        FROM (
            SELECT id, channel, name,
                   row_number() OVER (PARTITION BY channel, lower(name)
                                      ORDER BY created_at, id) AS nth
            FROM campaigns
        )
    ) AS numbered
    WHERE numbered.nth > 1
) AS renamed
WHERE campaigns.id = renamed.id;
