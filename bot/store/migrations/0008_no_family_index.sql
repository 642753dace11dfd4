-- A family is asked as its event types (`bot.store.filters`), each read from `events_by_type`: one index fewer
-- to write for every stored event. The `family` column stays, written as before, for whoever reads the file.
DROP INDEX IF EXISTS events_by_family;
