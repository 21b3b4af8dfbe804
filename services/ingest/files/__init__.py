"""Files uploaded through the Media API: records per account over content-addressed storage."""
