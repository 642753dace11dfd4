-- Every accepted event, in arrival order (seq), de-duplicated by its event id.
CREATE TABLE events (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    type             TEXT    NOT NULL,
    family           TEXT    NOT NULL,
    instance         TEXT,
    blueprint        TEXT,
    host             TEXT,
    actor            TEXT,
    origin           TEXT,
    producer_version TEXT,
    envelope_version INTEGER NOT NULL DEFAULT 0,
    summary          TEXT,
    source           TEXT    NOT NULL,
    timestamp        REAL    NOT NULL,  -- the event's own time, Unix seconds (UTC)
    received_at      REAL    NOT NULL,
    data             TEXT    NOT NULL   -- the Data object as JSON
);
CREATE INDEX events_by_instance ON events (instance, seq);
CREATE INDEX events_by_type ON events (type, seq);
CREATE INDEX events_by_family ON events (family, seq);
CREATE INDEX events_by_time ON events (timestamp);

-- Channel bindings changed with /notify, applied over KGSM_CHANNELS: enabled=1 adds, 0 removes.
CREATE TABLE channel_rules (
    instance   TEXT    NOT NULL,
    channel_id INTEGER NOT NULL,
    enabled    INTEGER NOT NULL,
    PRIMARY KEY (instance, channel_id)
);

-- Mutes changed with /notify, applied over KGSM_MUTED_EVENTS: target is a type or a family; scope an
-- instance name or '' for every instance; muted=1 mutes, 0 unmutes.
CREATE TABLE mute_rules (
    target TEXT    NOT NULL,
    scope  TEXT    NOT NULL,
    muted  INTEGER NOT NULL,
    PRIMARY KEY (target, scope)
);

-- Small facts the bot keeps across restarts (command tree hash, message ids).
CREATE TABLE facts (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
