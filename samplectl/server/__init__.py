"""`samplectl serve`: the HTTP API, a second front end over the same services as the command line.

Nothing here imports ``samplectl.cli``, and the command line imports this package only in the
`serve` command. Authorisation happens here, on the server: clients hold nothing but their token.
"""
