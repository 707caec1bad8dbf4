"""The lab's vocabulary: samples, their lifecycle, criteria, identities and typed errors.

Nothing here touches a database, the terminal or typer.
"""
