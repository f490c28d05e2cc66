"""Benchmarks: run against the built-in Bot API emulator, never against Telegram. See bench/README.md."""
