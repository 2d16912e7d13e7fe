"""State and rules of the synchronization service for one tenant: per service principal, its secrets and
its jobs (schedule, status, schema). The provisioning itself runs in scheduling.py (cycles) and
on_demand.py (provisionOnDemand)."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..applications.models import CTS_TEMPLATE_ID
from ..core.errors import InvalidRequest, TooManyRequests
from . import expressions as ex
from . import on_demand, scheduling
from . import schema as cts
from .exceptions import (
    InvalidSecret,
    JobAlreadyExists,
    NoHttpResource,
    RequestParameterInvalid,
    SyncObjectNotFound,
)
from .job import Job
from .preconditions import check_policies

if TYPE_CHECKING:
    from ..world import Tenant

SECRET_KEYS = frozenset(
    (
        "None",
        "UserName",
        "Password",
        "SecretToken",
        "AppKey",
        "BaseAddress",
        "ClientIdentifier",
        "ClientSecret",
        "SingleSignOnType",
        "Sandbox",
        "Url",
        "Domain",
        "ConsumerKey",
        "ConsumerSecret",
        "TokenKey",
        "TokenExpiration",
        "Oauth2AccessToken",
        "Oauth2AccessTokenCreationTime",
        "Oauth2RefreshToken",
        "SyncAll",
        "InstanceName",
        "Oauth2ClientId",
        "Oauth2ClientSecret",
        "CompanyId",
        "UpdateKeyOnSoftDelete",
        "SynchronizationSchedule",
        "SystemOfRecord",
        "SandboxName",
        "EnforceDomain",
        "SyncNotificationSettings",
        "SkipOutOfScopeDeletions",
        "Oauth2AuthorizationCode",
        "Oauth2RedirectUri",
        "ApplicationTemplateIdentifier",
        "Oauth2TokenExchangeUri",
        "Oauth2AuthorizationUri",
        "AuthenticationType",
        "Server",
        "PerformInboundEntitlementGrants",
        "HardDeletesEnabled",
        "SyncAgentCompatibilityKey",
        "SyncAgentADContainer",
        "ValidateDomain",
        "TestReferences",
        "ConnectionString",
    )
)
# Secrets GET returns masked, as a support guide shows for passwords.
MASKED_SECRETS = frozenset(
    {
        "Password",
        "SecretToken",
        "AppKey",
        "ClientSecret",
        "ConsumerSecret",
        "TokenKey",
        "Oauth2AccessToken",
        "Oauth2RefreshToken",
        "Oauth2ClientSecret",
        "Oauth2AuthorizationCode",
        "ConnectionString",
    }
)
RESET_SCOPES = frozenset(
    {"None", "ConnectorDataStore", "Escrows", "Watermark", "QuarantineState", "Full", "ForceDeletes"}
)
DEFAULT_RESET = frozenset({"QuarantineState", "Watermark", "Escrows"})  # the portal's "Restart provisioning"
ON_DEMAND_LIMIT = 5
ON_DEMAND_WINDOW_SECONDS = 10.0


@dataclass
class ServicePrincipalSync:
    secrets: dict[str, str] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)


def _credentials(value: object, what: str) -> list[tuple[str, str]]:
    """[{key, value}] pairs with keys from the synchronizationSecret enum and string values."""
    if not isinstance(value, list):
        raise InvalidSecret(f"'{what}' must be a collection of synchronizationSecretKeyStringValuePair.")
    pairs = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"key", "value", "@odata.type"}:
            raise InvalidSecret(f"Each item of '{what}' must be an object with 'key' and 'value'.")
        key, text = item.get("key"), item.get("value")
        if not isinstance(key, str) or key not in SECRET_KEYS:
            raise InvalidSecret(f"Requested value '{key}' was not found in the synchronizationSecret enumeration.")
        if not isinstance(text, str):
            raise InvalidSecret(f"The value of secret '{key}' must be a string.")
        pairs.append((key, text))
    return pairs


class SynchronizationBackend:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.configs: dict[str, ServicePrincipalSync] = {}

    # --- service principals ---------------------------------------------------------------------------
    def _service_principal(self, sp_id: str) -> dict[str, Any]:
        return self.tenant.applications.service_principal(sp_id)

    def _config(self, sp_id: str) -> ServicePrincipalSync:
        return self.configs.setdefault(self._service_principal(sp_id)["id"], ServicePrincipalSync())

    def forget_service_principal(self, sp_id: str) -> None:
        """The application or service principal was deleted: its secrets and jobs go with it."""
        self.configs.pop(sp_id.lower(), None)

    def _templates(self, sp: Mapping[str, Any]) -> list[dict[str, Any]]:
        is_cts = sp.get("applicationTemplateId") == CTS_TEMPLATE_ID
        return [cts.template(sp.get("appId", ""))] if is_cts else []

    def templates(self, sp_id: str) -> list[dict[str, Any]]:
        return self._templates(self._service_principal(sp_id))

    def template(self, sp_id: str, template_id: str) -> dict[str, Any]:
        for found in self.templates(sp_id):
            if found["id"].lower() == template_id.lower():
                return found
        raise SyncObjectNotFound(f"The template '{template_id}' was not found for this service principal.")

    # --- secrets --------------------------------------------------------------------------------------
    def put_secrets(self, sp_id: str, value: object) -> None:
        """Adds or replaces the given keys; keys not sent keep their values."""
        config = self._config(sp_id)
        config.secrets.update(_credentials(value, "value"))

    def secrets(self, sp_id: str) -> list[dict[str, str]]:
        return [
            {"key": key, "value": "*" if key in MASKED_SECRETS else value}
            for key, value in self._config(sp_id).secrets.items()
        ]

    # --- jobs -----------------------------------------------------------------------------------------
    def jobs(self, sp_id: str) -> list[dict[str, Any]]:
        return [job.to_graph() for job in self._config(sp_id).jobs.values()]

    def job(self, sp_id: str, job_id: str) -> Job:
        jobs = self._config(sp_id).jobs
        job = jobs.get(job_id) or next((j for j in jobs.values() if j.id.lower() == job_id.lower()), None)
        if job is None:
            raise SyncObjectNotFound(f"The synchronization job '{job_id}' was not found.")
        return job

    def create_job(self, sp_id: str, template_id: object) -> Job:
        if not isinstance(template_id, str) or not template_id:
            raise InvalidRequest("The property 'templateId' is required to create a synchronization job.")
        sp = self._service_principal(sp_id)
        if not any(t["id"].lower() == template_id.lower() for t in self._templates(sp)):
            raise InvalidRequest(f"The template '{template_id}' is not available for service principal '{sp['id']}'.")
        config = self._config(sp_id)
        if any(j.template_id == cts.TEMPLATE_ID for j in config.jobs.values()):
            raise JobAlreadyExists(
                f"A synchronization job for template '{cts.TEMPLATE_ID}' already exists for "
                f"service principal '{sp['id']}'."
            )
        job_id = f"{cts.TEMPLATE_ID}.{uuid.uuid4().hex}.{self.tenant.id}"
        job = Job(job_id, sp["id"], config.secrets, cts.default_schema(job_id), cts.default_rule())
        config.jobs[job_id] = job
        return job

    def delete_job(self, sp_id: str, job_id: str) -> None:
        """Stops the job and drops its state; users it provisioned stay in the target."""
        job = self.job(sp_id, job_id)
        del self._config(sp_id).jobs[job.id]

    def start_job(self, sp_id: str, job_id: str) -> None:
        self.job(sp_id, job_id).start(self._now())

    def pause_job(self, sp_id: str, job_id: str) -> None:
        self.job(sp_id, job_id).pause()

    def restart_job(self, sp_id: str, job_id: str, criteria: object) -> None:
        job = self.job(sp_id, job_id)
        job.restart(_reset_scopes(criteria), self._now())

    def validate_credentials(self, sp_id: str, job_id: str | None, body: Mapping[str, Any]) -> None:
        """Test connection: 204 when the target can be reached, else the policy error the service reports."""
        config = self._config(sp_id)
        template_id = self.job(sp_id, job_id).template_id if job_id else body.get("templateId", cts.TEMPLATE_ID)
        self.template(sp_id, str(template_id))
        if body.get("useSavedCredentials") is True:
            company_id = config.secrets.get("CompanyId")
        else:
            company_id = dict(_credentials(body.get("credentials") or [], "credentials")).get("CompanyId")
        error = check_policies(self.tenant, company_id)
        if error is not None:
            raise error

    def provision_on_demand(self, sp_id: str, job_id: str, parameters: object) -> dict[str, str]:
        job = self.job(sp_id, job_id)
        self._throttle_on_demand(job)  # every call counts, including those refused below
        object_id = _on_demand_subject(job, parameters)
        user = self.tenant.directory.users.get(object_id.lower())
        if user is None:
            raise SyncObjectNotFound(f"The object '{object_id}' was not found in {cts.SOURCE_DIRECTORY}.")
        outcome, event = on_demand.provision_on_demand(self.tenant, job, user, self._now())
        return on_demand.on_demand_result(outcome, event)

    def _throttle_on_demand(self, job: Job) -> None:
        """5 requests per 10 s; a request leaves the window after 10 s of simulated or of wall time."""
        clock, calls = self.tenant.world.clock, job.on_demand_calls
        now, wall = clock.now(), time.monotonic()
        while calls and (
            now - calls[0][0] >= ON_DEMAND_WINDOW_SECONDS or wall - calls[0][1] >= ON_DEMAND_WINDOW_SECONDS
        ):
            calls.popleft()
        if len(calls) >= ON_DEMAND_LIMIT:
            simulated = (
                (ON_DEMAND_WINDOW_SECONDS - (now - calls[0][0])) / clock.time_scale if clock.time_scale else math.inf
            )
            retry = min(simulated, ON_DEMAND_WINDOW_SECONDS - (wall - calls[0][1]))
            raise TooManyRequests(
                f"provisionOnDemand allows {ON_DEMAND_LIMIT} requests per {ON_DEMAND_WINDOW_SECONDS:.0f} seconds.",
                headers={"Retry-After": str(max(1, math.ceil(retry)))},
            )
        calls.append((now, wall))

    # --- schema ---------------------------------------------------------------------------------------
    def schema(self, sp_id: str, job_id: str) -> dict[str, Any]:
        return self.job(sp_id, job_id).schema

    def put_schema(self, sp_id: str, job_id: str, body: Mapping[str, Any]) -> None:
        """Full replace after validation; new mappings or filters make the next cycle re-evaluate everyone."""
        job = self.job(sp_id, job_id)
        rule = cts.validate(body)
        new = {
            "id": job.id,
            "version": body.get("version") or job.schema.get("version", cts.SCHEMA_VERSION),
            "synchronizationRules": body["synchronizationRules"],
            "directories": body["directories"],
        }
        self._replace_schema(job, new, rule)

    def reset_schema(self, sp_id: str, job_id: str) -> None:
        job = self.job(sp_id, job_id)
        self._replace_schema(job, cts.default_schema(job.id), cts.default_rule())

    def _replace_schema(self, job: Job, new: dict[str, Any], rule: cts.CompiledRule) -> None:
        if cts.rules_changed(job.schema, new):
            job.reset_watermark(self._now())
        job.schema, job.rule = new, rule

    def patch_schema(self, sp_id: str, job_id: str) -> None:
        """PATCH is not routed by the service behind Graph (SDKs send it anyway): its 404, as observed."""
        job = self.job(sp_id, job_id)
        raise NoHttpResource(f"servicePrincipals('{job.sp_id}')/synchronization/jobs('{job.id}')/schema")

    def patch_job(self, sp_id: str, job_id: str) -> None:
        job = self.job(sp_id, job_id)
        raise NoHttpResource(f"servicePrincipals('{job.sp_id}')/synchronization/jobs('{job.id}')")

    @staticmethod
    def parse_expression(body: Mapping[str, Any]) -> dict[str, Any]:
        """schema/parseExpression: the parsed attributeMappingSource and, given test input, its value."""
        expression = body.get("expression")
        if not isinstance(expression, str):
            raise InvalidRequest("The property 'expression' is required and must be a string.")
        reply: dict[str, Any] = {
            "error": None,
            "evaluationResult": None,
            "evaluationSucceeded": False,
            "parsedExpression": None,
            "parsingSucceeded": False,
        }
        try:
            node = ex.parse(expression)
        except ex.ExpressionError as exc:
            reply["error"] = {"code": "ExpressionParsingFailed", "message": str(exc)}
            return reply
        reply["parsedExpression"], reply["parsingSucceeded"] = ex.to_mapping_source(node), True
        test_input = body.get("testInputObject")
        if isinstance(test_input, dict):
            try:
                reply["evaluationResult"] = ex.render(ex.evaluate(node, _test_properties(test_input)))
                reply["evaluationSucceeded"] = True
            except ex.EvaluationError as exc:
                reply["error"] = {"code": "ExpressionEvaluationFailed", "message": str(exc)}
        return reply

    # --- the engine -----------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.tenant.world.clock.now()

    def run_due(self, now: float) -> None:
        """Runs the provisioning cycles that are due at simulated time `now`, catching up missed ones."""
        for config in list(self.configs.values()):
            for job in list(config.jobs.values()):
                due = job.cycle is not None or (job.next_start is not None and job.next_start <= now)
                if job.schedule_state == "Active" and due:
                    self._run(job, now)

    def _run(self, job: Job, now: float) -> None:
        try:
            scheduling.run_due(self.tenant, job, now)
        except Exception as exc:  # a bug must not stop the clock ticking for every tenant
            self.tenant.world.internal_errors.append(f"provisioning job {job.id}: {exc!r}")
            job.schedule_state = "Disabled"


def _reset_scopes(criteria: object) -> set[str]:
    if criteria is None:
        return set(DEFAULT_RESET)
    scope = criteria.get("resetScope") if isinstance(criteria, dict) else None
    if scope is None:
        return set(DEFAULT_RESET)
    if not isinstance(scope, str):
        raise InvalidRequest("'criteria.resetScope' must be a comma-separated list of synchronizationJobRestartScope.")
    scopes = {part.strip() for part in scope.split(",") if part.strip()}
    unknown = sorted(scopes - RESET_SCOPES)
    if unknown:
        raise InvalidRequest(f"Requested value '{unknown[0]}' was not found in synchronizationJobRestartScope.")
    return scopes


def _on_demand_subject(job: Job, parameters: object) -> str:
    """The one user a provisionOnDemand call names, after checking the rule id as the service does."""
    if not isinstance(parameters, list) or len(parameters) != 1 or not isinstance(parameters[0], dict):
        raise RequestParameterInvalid("'parameters' must hold exactly one synchronizationJobApplicationParameters.")
    rule_id, subjects = parameters[0].get("ruleId"), parameters[0].get("subjects")
    if rule_id != job.rule.rule_id:
        raise RequestParameterInvalid(
            f"The request identified this synchronization job: {job.id}.  The request "
            f"also identified this synchronization rule: {rule_id or ''}.  However, the "
            "job does not include the rule."
        )
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise RequestParameterInvalid("'subjects' must name exactly one object to provision.")
    subject = subjects[0]
    if str(subject.get("objectTypeName", "")).lower() != "user" or not isinstance(subject.get("objectId"), str):
        raise RequestParameterInvalid("Only objects of type 'User' can be provisioned on demand by this job.")
    return str(subject["objectId"])


def _test_properties(test_input: Mapping[str, Any]) -> dict[str, object]:
    properties = test_input.get("properties") or []
    if not isinstance(properties, list):
        raise InvalidRequest("'testInputObject.properties' must be a collection of key/value pairs.")
    return {str(p.get("key")): p.get("value") for p in properties if isinstance(p, dict)}
