"""Discord adapter: `/imagine`, mentions, persistent buttons and moderator commands (discord.py 2.7)."""
