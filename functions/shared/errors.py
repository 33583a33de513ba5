"""Exceptions whose message is a template their class declares, filled with what they keep."""

from __future__ import annotations

from typing import ClassVar


class TemplatedError(Exception):
    """An exception about named values: its message is the class's ``template`` filled with the
    keyword arguments, and each argument is kept as an attribute of the same name.

    A subclass declares ``template`` and annotates the attributes it keeps::

        class SkuNotFound(InventoryError, TemplatedError):
            template = "unknown sku {sku!r}"
            sku: str
    """

    template: ClassVar[str]

    def __init__(self, **values: object) -> None:
        super().__init__(self.template.format(**values))
        vars(self).update(values)
