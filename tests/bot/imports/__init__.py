"""Tests for the export readers in bot/imports (Slack workspace exports, DiscordChatExporter)."""
