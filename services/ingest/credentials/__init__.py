"""Saved Google Drive service-account credentials (/ondemand/credentials/google-drive*)."""
