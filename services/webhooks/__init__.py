"""Webhooks service: subscriptions and signed deliveries (health only for now)."""
