"""The Telegram bot: `/start <number>` links the client's chat; buttons confirm or cancel."""
