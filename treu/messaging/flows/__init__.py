"""Automations: flows of steps customers walk through after a trigger (see docs/messaging.md)."""
