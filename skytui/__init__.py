"""skytui: a terminal workstation manager for AI teams on the cloud."""

__version__ = "0.1.0"
