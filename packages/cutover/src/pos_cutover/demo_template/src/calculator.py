"""A tiny module for the demo workflows to work on."""


def add(a: float, b: float) -> float:
    """Return the sum of a and b."""
    return a + b


def divide(a: float, b: float) -> float:
    """Return a divided by b."""
    if b == 0:
        raise ZeroDivisionError("b must not be zero")
    return a / b
