"""Services: the use cases. The web and the CLI call these and nothing below them."""
