"""The demo estate that ``flask --app wsgi demo load`` builds through the real services."""
