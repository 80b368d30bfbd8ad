"""Messaging: consent with double opt-in, segments, templates, campaigns, automations, outbox."""
