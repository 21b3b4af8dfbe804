"""The webhooks service's revisions, applied in order by services.common.migrations."""
