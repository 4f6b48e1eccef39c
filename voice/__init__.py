"""Offline, accessible voice assistant that answers patients' questions at a clinic kiosk."""

__version__ = "0.1.0"
