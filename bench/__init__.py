"""Benchmarks of the bot against baselines measured in the same run: `make bench` (`python -m bench`)."""
