"""The aiohttp gateway: maps both REST dialects and their error codes onto internal RPCs."""
