"""Domain exceptions: technical or contract failures that the state machines Catch by name."""

from __future__ import annotations


class PaymentError(Exception):
    """Base of every payments domain error."""


class PaymentNotFound(PaymentError):
    """A step that needs an authorization ran without one (a workflow ordering bug)."""


class InvalidPaymentState(PaymentError):
    """The step cannot apply to the payment's current state (e.g. capture after a void)."""


class PaymentAmountMismatch(PaymentError):
    """A step carried a different amount than the one authorized."""


class PaymentContention(PaymentError):
    """The PAY# record kept changing under us; retryable."""


class ChargeDeadlineExceeded(PaymentError):
    """authorize answered after the charge step's caller stopped listening: no capture; retryable."""
