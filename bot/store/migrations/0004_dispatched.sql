-- Whether an event's deliveries (and run steps) are recorded. An event is stored first (and acknowledged to
-- its source), then dispatched; a stop or crash in between leaves it 0, and the next start dispatches it.
ALTER TABLE events ADD COLUMN dispatched INTEGER NOT NULL DEFAULT 1;
CREATE INDEX events_undispatched ON events (seq) WHERE dispatched = 0;
