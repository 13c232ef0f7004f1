"""Local fake servers that real clients are pointed at in tests (Telegram Bot API, …)."""
