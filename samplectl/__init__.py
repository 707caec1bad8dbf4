"""samplectl: manage biological samples collected in clinical trials."""

__version__ = "0.1.0"
