"""Notifications: who hears about a build (YAML notices, pipeline settings, user subscriptions), by
which channel (email, webhook, Slack, WeCom), and every delivery with its retries (docs/notifications.md)."""
