"""Remote mode: the services of the command line, backed by a samplectl server's HTTP API.

With ``SAMPLECTL_SERVER`` set, the service factory hands out the classes of this package instead of
the ones that open databases, so every command behaves the same through the server. Nothing here
imports a database driver, SQLAlchemy, bcrypt or a signing secret: the server holds all of them.
"""
