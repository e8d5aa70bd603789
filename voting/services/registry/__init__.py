"""The registry: districts, street offices, communities (estates), buildings, units and the
holders the roll import makes of a committee's spreadsheet."""
