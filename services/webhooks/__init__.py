"""Webhooks service: subscriptions, signed and retried deliveries, the job event feed."""
