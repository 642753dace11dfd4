"""Event sources: each takes KGSM events in over one transport and hands them to an `Intake`."""
