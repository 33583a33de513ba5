"""The orderflow stack in a CDK app: what `app.py` synthesizes and what the tools build in-process."""

from __future__ import annotations

import os

from aws_cdk import App, Environment

from cdk.nag import acknowledge, apply_nag
from cdk.stack import OrderflowStack


def build(app: App | None = None, stack_name: str = "Orderflow") -> tuple[App, OrderflowStack]:
    app = app or App()
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=os.environ.get("AWS_REGION") or os.environ.get("CDK_DEFAULT_REGION"),
    )
    stack = OrderflowStack(app, stack_name, env=env, description="orderflow: serverless order processing")
    acknowledge(stack)
    apply_nag(app)
    return app, stack


def stack_name(app: App) -> str:
    """`Orderflow`, or `Orderflow-<stage>` with `-c stage=<stage>` (stages live side by side)."""
    stage = app.node.try_get_context("stage")
    if not stage:
        return "Orderflow"
    if not str(stage).replace("-", "").isalnum() or len(str(stage)) > 20:
        raise ValueError(f"stage {stage!r}: letters, digits and '-' only, at most 20 characters")
    return f"Orderflow-{stage}"
