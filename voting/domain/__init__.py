"""The voting core: pure code (standard library and ``cryptography`` only).

The auditors' verifier imports this package on a laptop that has nothing
else installed, so nothing here may import Flask, SQLAlchemy or the app.
"""
