-- What must reach Discord, recorded before it is sent and marked done with the message id after.

-- One row per (event, channel) for standalone embeds, and per (event, channel) step of an operation.
-- Standalone rows sent together share batch_id (set before the POST, so a retry after a crash sends the
-- same group with the same nonce).
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT,                 -- NULL for the bot's own notices
    channel_id  INTEGER NOT NULL,
    embed       TEXT,                 -- standalone: the embed as Discord JSON; operations: NULL
    run_id      INTEGER,              -- operations: the run this step belongs to
    run_version INTEGER,              -- operations: the run's version that includes this step
    batch_id    INTEGER,
    status      TEXT    NOT NULL DEFAULT 'pending',  -- pending, done, failed
    message_id  INTEGER,
    error       TEXT,
    created_at  REAL    NOT NULL,
    UNIQUE (event_id, channel_id)
);
CREATE INDEX deliveries_pending ON deliveries (status, channel_id, id);

-- One run of a multi-step operation (an install, an update, …) of one instance.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL,     -- running, done, failed
    steps       TEXT    NOT NULL,     -- JSON list of the event types seen, in order
    failed_step TEXT,
    actor       TEXT,
    host        TEXT,
    details     TEXT    NOT NULL DEFAULT '{}',  -- JSON: blueprint, versions, … for the message
    started_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL,
    version     INTEGER NOT NULL
);

-- The live message of a run in one channel, edited in place; written_version says what it shows.
CREATE TABLE run_messages (
    run_id          INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    message_id      INTEGER,
    written_version INTEGER NOT NULL DEFAULT 0,
    failed          TEXT,
    created_at      REAL    NOT NULL,
    PRIMARY KEY (run_id, channel_id)
);
