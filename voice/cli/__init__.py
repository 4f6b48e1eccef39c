from voice.cli.main import main

__all__ = ["main"]
