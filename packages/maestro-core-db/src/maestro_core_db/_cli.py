"""maestro-db."""


def main() -> int:
    """Entry point."""
    return 0
