#!/usr/bin/env python3
"""The orderflow CDK app: `cdk synth` / `cdk deploy`, and the template the local cloud runs."""

from __future__ import annotations

from aws_cdk import App

from cdk.app import build, stack_name

if __name__ == "__main__":
    main_app = App()
    built, _ = build(main_app, stack_name(main_app))
    built.synth()
