"""One way to name a place in a section in every finding: ``.debug_x[0xOFFSET]: message``."""


def where(section: str, offset: int, message: str) -> str:
    return f".{section}[0x{offset:x}]: {message}"
