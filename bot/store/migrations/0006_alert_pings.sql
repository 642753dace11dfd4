-- The alert ping (KGSM_ALERT_ROLE_ID): a short message that mentions the alert role, recorded like every other
-- delivery, once per danger (a gave-up crash incident, a failed run, a threshold breach) and channel. Its
-- event_id is what it is about (`alert:run:<id>`, `alert:event:<id>`), so UNIQUE (event_id, channel_id) keeps it
-- to one; embed is NULL, content its text, ping_role the one role it may mention.
ALTER TABLE deliveries ADD COLUMN content TEXT;
ALTER TABLE deliveries ADD COLUMN ping_role INTEGER;
