"""socialinbox: one inbox for X, Messenger, Instagram and Telegram direct messages."""
