"""Identity-based IAM on the local cloud: every call a function or a workflow makes is authorized.

Each function's workers get their own credentials (an access key id derived from the function's
role and name), the ASL interpreter signs each task's call with a key derived from the state
machine's role, and rule deliveries with a target `RoleArn` use that role's key. One hook in
moto's request handling (local.iam_hook) maps the key back to the role, asks
`local.iam_resources` which action(s) and resource(s) the request needs, evaluates the role's
policies as the template declares them (`local.iam_policy`), and answers a refused request with
AWS's error. Requests signed with any other key (the runner, the tests, the ops toolkit) are
not checked. What each role used is kept and written to `<work_dir>/iam-usage.json` for
`python -m local iam-report`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.iam_policy import Decision, Request, Statement, evaluate

log = logging.getLogger(__name__)

SECRET_ACCESS_KEY = "local-cloud-iam-secret"  # noqa: S105 - moto checks no signature; only the key id matters
STATES_SESSION = "StepFunctionsExecution"
EVENTS_SESSION = "EventBridgeTarget"
USAGE_FILE = "iam-usage.json"
ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}


def access_key_for(role_arn: str, session: str) -> str:
    """The access key id of `session` in `role_arn` (20 characters, as moto reads them)."""
    digest = hashlib.sha256(f"{role_arn}|{session}".encode()).digest()
    return "ASIA" + base64.b32encode(digest).decode()[:16]


def credentials_for(role_arn: str, session: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": access_key_for(role_arn, session),
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": f"local-cloud-session-{session}",
    }


def sign_as(client: Any, role_arn: str, session: str) -> None:
    """Makes a boto3 client sign its requests as `session` in the role."""
    from botocore.credentials import Credentials

    keys = credentials_for(role_arn, session)
    client._request_signer._credentials = Credentials(keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])


@dataclass(frozen=True)
class Identity:
    role_arn: str
    session: str  # the function name, or STATES_SESSION / EVENTS_SESSION

    @property
    def arn(self) -> str:
        account = self.role_arn.split(":")[4]
        return f"arn:aws:sts::{account}:assumed-role/{self.role_arn.rsplit('/', 1)[-1]}/{self.session}"


class _Registry:
    """Process-wide: access key -> (enforcer, identity); clouds of several stacks share moto."""

    lock = threading.Lock()
    keys: dict[str, tuple[Enforcer, Identity]] = {}


@dataclass
class Role:
    logical_id: str
    arn: str
    statements: list[Statement]


class Enforcer:
    """One stack's roles, their policies, and what each used."""

    def __init__(self, roles: dict[str, Role], *, region: str, account: str, usage_file: Path | None) -> None:
        self.roles = roles  # role ARN -> Role
        self.region = region
        self.account = account
        self.usage_file = usage_file
        self._lock = threading.Lock()
        self._used: dict[str, Counter[tuple[str, str, str]]] = {}  # role -> (action, resource, allowed by)
        self._denied: dict[str, Counter[tuple[str, str, str, str]]] = {}  # role -> (action, resource, why, who)
        self._unevaluated: dict[str, set[tuple[str, str]]] = {}
        self._keys: list[str] = []

    @classmethod
    def from_template(
        cls, template: Mapping[str, Any], resolver: Any, resources: Mapping[str, Any], **options: Any
    ) -> Enforcer:
        from local.iam_roles import role_statements

        return cls(role_statements(template, resolver, resources), **options)

    # -- identities ----------------------------------------------------------------------

    def function_credentials(self, resource: Any) -> dict[str, str] | None:
        """The credentials of a function's workers: its `Role`, the function name as session."""
        role = resource.properties.get("Role")
        if not role:
            return None
        return self.register(str(role), str(resource.physical_id))

    def register(self, role_arn: str, session: str) -> dict[str, str]:
        """Credentials for `session` in the role; requests signed with them are authorized."""
        if role_arn not in self.roles:
            log.info("IAM: role %s is not in the template; calls made with it are not checked", role_arn)
        key = access_key_for(role_arn, session)
        with _Registry.lock:
            _Registry.keys[key] = (self, Identity(role_arn, session))
        self._keys.append(key)
        return credentials_for(role_arn, session)

    def close(self) -> None:
        with _Registry.lock:
            for key in self._keys:
                if _Registry.keys.get(key, (None,))[0] is self:
                    del _Registry.keys[key]
        self._keys.clear()
        self.write_usage()

    # -- decisions -----------------------------------------------------------------------

    def authorize(self, identity: Identity, requests: list[Request]) -> tuple[Request, Decision] | None:
        """None when every request is allowed, else the first refused one and its decision."""
        role = self.roles.get(identity.role_arn)
        if role is None:
            return None
        new = False
        for request in requests:
            if request.action in ALWAYS_ALLOWED:
                continue
            decision = evaluate(role.statements, request)
            self._report_unevaluated(role, decision)
            resource = request.resource if request.resource is not None else "?"
            if not decision.allowed:
                why = (
                    "explicit deny: " + decision.denied_by[0].label if decision.explicit_deny else "no statement allows"
                )
                with self._lock:
                    counter = self._denied.setdefault(role.arn, Counter())
                    new = not counter[(request.action, resource, why, identity.session)]
                    counter[(request.action, resource, why, identity.session)] += 1
                log.warning(
                    "IAM: %s (role %s) may not %s on %s: %s",
                    identity.session,
                    role.logical_id,
                    request.action,
                    resource,
                    why,
                )
                if new:
                    self.write_usage()
                return request, decision
            if decision.resource_unknown:
                self._once(role, ("resource", request.action), "resource of %s not derived: checked by action only")
            allowed_by = ",".join(statement.label for statement in decision.allowed_by)
            with self._lock:
                counter_used = self._used.setdefault(role.arn, Counter())
                new = new or not counter_used[(request.action, resource, allowed_by)]
                counter_used[(request.action, resource, allowed_by)] += 1
        if new:
            self.write_usage()
        return None

    def _report_unevaluated(self, role: Role, decision: Decision) -> None:
        for statement, condition in decision.unevaluated:
            self._once(
                role,
                (statement.label, condition),
                f"condition {condition} of {statement.label} can't be evaluated locally: "
                + ("not applied" if statement.effect == "Deny" else "treated as met"),
            )

    def _once(self, role: Role, key: tuple[str, str], message: str) -> None:
        with self._lock:
            seen = self._unevaluated.setdefault(role.arn, set())
            if key in seen:
                return
            seen.add(key)
        log.info("IAM: role %s: %s", role.logical_id, message % key[1] if "%s" in message else message)

    # -- usage ---------------------------------------------------------------------------

    def usage(self) -> dict[str, Any]:
        with self._lock:
            roles = {}
            for arn, role in self.roles.items():
                roles[arn] = {
                    "logical_id": role.logical_id,
                    "statements": [{"label": s.label, **s.as_json()} for s in role.statements],
                    "used": [
                        {"action": a, "resource": r, "allowed_by": by.split(",") if by else [], "count": n}
                        for (a, r, by), n in sorted(self._used.get(arn, Counter()).items())
                    ],
                    "denied": [
                        {"action": a, "resource": r, "reason": why, "principal": who, "count": n}
                        for (a, r, why, who), n in sorted(self._denied.get(arn, Counter()).items())
                    ],
                    "notes": sorted(" ".join(k) for k in self._unevaluated.get(arn, set())),
                }
        return {"region": self.region, "account": self.account, "roles": roles}

    def write_usage(self) -> None:
        if self.usage_file is None:
            return
        try:
            self.usage_file.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(self.usage(), indent=1, sort_keys=True)
            temporary = self.usage_file.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            temporary.write_text(text)
            os.replace(temporary, self.usage_file)
        except OSError as error:
            log.debug("IAM usage not written: %s", error)


def for_cloud(cloud: Any, say: Any = None) -> Enforcer:
    """The enforcer of a starting local cloud, with its state machines' and rule targets' roles."""
    assert cloud._provisioner is not None
    enforcer = Enforcer.from_template(
        cloud.stack.template,
        cloud._provisioner.resolver,
        cloud.resources,
        region=cloud.region,
        account=cloud.account_id,
        usage_file=cloud.work_dir / USAGE_FILE,
    )
    for resource in cloud.resources.values():
        if not resource.emulated:
            continue
        if resource.type == "AWS::StepFunctions::StateMachine" and resource.properties.get("RoleArn"):
            enforcer.register(str(resource.properties["RoleArn"]), STATES_SESSION)
    statements = sum(len(role.statements) for role in enforcer.roles.values())
    if say is not None:
        say(f"IAM enforced: {len(enforcer.roles)} roles, {statements} statements (usage in {enforcer.usage_file})")
    enforcer.write_usage()
    return enforcer


def identity_of(authorization: str) -> tuple[Enforcer, Identity] | None:
    """The enforcer and identity of a request's SigV4 `Authorization` header (None: not checked)."""
    start = authorization.find("Credential=")
    if start < 0:
        return None
    key = authorization[start + len("Credential=") :].split("/", 1)[0]
    with _Registry.lock:
        return _Registry.keys.get(key)


def checking() -> bool:
    """Whether any identity is registered (else no request needs a look)."""
    return bool(_Registry.keys)


def install() -> None:
    """Installs the request hook in moto (local.iam_hook), once per process."""
    from local import iam_hook

    iam_hook.install()
