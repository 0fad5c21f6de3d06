"""Server-rendered pages (Jinja2): thin handlers that parse a form, call a service, render."""
