"""Auth service: accounts, API keys and the internal tokens other services verify."""
