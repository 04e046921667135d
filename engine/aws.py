"""The one module that talks to AWS: an IoT client that counts, paces and translates.

Every call goes through ``IotApi.call``: it waits its turn under a client-side rate limit
(AWS allows about 10 calls a second for each Jobs API), counts the call by operation, and
turns botocore's errors into the project's own (``AwsError``, ``AlreadyExists``) here, at
the boundary. botocore's adaptive retry mode retries throttling, 5xx answers and dropped
connections; ``_no_retry_of_what_cannot_succeed`` vetoes the rest of what it would retry:
an endpoint that cannot be reached at all, and an HTML error page (an endpoint, such as a
stock moto server, that does not implement the operation) instead of an AWS answer.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)
from botocore.parsers import ResponseParserError

from engine.errors import RolloutsError

WRITE_OPERATIONS = frozenset({"CreateJob", "UpdateJob", "CancelJob", "TagResource",
                              "UntagResource", "DeleteJob"})
PAGE_SIZE = 250
TAGGING_PAGE_SIZE = 100  # GetResources' ResourcesPerPage maximum
ALARM_NAMES_PER_CALL = 100  # DescribeAlarms' AlarmNames and MaxRecords maximum


HINTS = {
    "NoCredentialsError": "configure AWS credentials (aws configure, AWS_PROFILE, or role "
                          "assumption in CI), or try --sandbox, which needs none",
    "AccessDeniedException": "the role lacks an action: see iam/apply-policy.json",
    "ExpiredTokenException": "the credentials have expired: sign in again",
}


class AwsError(RolloutsError):
    """An AWS call failed after botocore's retries; ``aws_code`` is AWS's error code."""

    code = "AWS_ERROR"

    def __init__(self, operation: str, aws_code: str, message: str) -> None:
        self.operation = operation
        self.aws_code = aws_code
        hint = HINTS.get(aws_code)
        super().__init__(f"{operation} failed: {aws_code}: {message}"
                         + (f"; {hint}" if hint else ""))


class AlreadyExists(AwsError):
    """CreateJob for a jobId that exists (AWS's ResourceAlreadyExistsException)."""


class NotFound(AwsError):
    """The job (or resource) does not exist."""


class RateLimiter:
    """At most ``rate`` calls a second across threads: each call takes the next free slot."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.lock = threading.Lock()
        self.next_at = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        delay = start - now
        if delay > 0:
            time.sleep(delay)


@dataclass(frozen=True)
class Connection:
    """Where and as whom to call AWS."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    rate: float = 10.0
    max_attempts: int = 10
    retry_mode: str = "adaptive"
    # Temporary credentials of an assumed role (key id, secret, session token); None: the
    # profile's, or the default chain's.
    credentials: tuple[str, str, str] | None = None
    # A run that only reads (plan): each account's read-only role is assumed where declared.
    reads_only: bool = False


def _first_line(exc: Exception) -> str:
    """An error's message on one line (a parser error quotes a whole HTML page)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:300] + "..."


# Gateways and load balancers answer these for a moment's trouble, in any format: retried.
_TRANSIENT_STATUS = frozenset({502, 503, 504})


def _html_page(headers: Any) -> bool:
    """An error answered as a web page: no AWS service answers so, but a web server does for
    a request it has no handler for (a stock moto server for an operation it lacks)."""
    return "html" in str((headers or {}).get("content-type", "")).lower()


def _no_retry_of_what_cannot_succeed(*, attempts: int, response: Any,
                                     caught_exception: Any, **_: Any) -> bool | None:
    """A needs-retry handler that runs before botocore's: False stops the retries, None
    lets botocore decide (throttling, AWS's own 5xx, a dropped connection)."""
    if isinstance(caught_exception, EndpointConnectionError) and \
            not isinstance(caught_exception, ConnectTimeoutError):
        # Refused, or a name that does not resolve: one more try for a hiccup, not ten.
        return False if attempts >= 2 else None
    if response is None:
        return None
    http = response[0]
    status = int(getattr(http, "status_code", 0) or 0)
    if status < 400 or status in _TRANSIENT_STATUS:  # a gateway's page is worth a retry
        return None
    return False if _html_page(getattr(http, "headers", None)) else None


def _client(session: Any, service: str, **kwargs: Any) -> Any:
    """A boto3 client that retries only what can succeed; a malformed endpoint URL is an
    AwsError, not a ValueError."""
    endpoint = kwargs.get("endpoint_url")
    try:
        if endpoint:
            parsed = urlsplit(endpoint)
            parsed.port  # noqa: B018 (a port out of range raises here, not at the first call)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError(f"{endpoint!r} is not an http(s) URL")
        client = session.client(service, **kwargs)
    except ValueError as exc:
        raise AwsError("Connect", "InvalidEndpoint", f"{exc}; --endpoint-url must be a URL "
                       "such as http://127.0.0.1:5000") from exc
    name = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"needs-retry.{name}", _no_retry_of_what_cannot_succeed)
    return client


def translate(operation: str, exc: Exception) -> AwsError:
    """botocore's error for ``operation`` as the project's: one line, AWS's code kept."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        meta = exc.response.get("ResponseMetadata", {})
        status = int(meta.get("HTTPStatusCode", 0) or 0)
        if status >= 400 and _html_page(meta.get("HTTPHeaders")):
            return AwsError(operation, f"HTTP {status}",
                            "the endpoint answered with a web page, not an AWS answer: it "
                            f"does not implement {operation} (is it AWS, or a simulator "
                            "without this operation?)")
        message = _first_line(Exception(error.get("Message", "") or exc))
        kind = {"ResourceAlreadyExistsException": AlreadyExists,
                "ResourceNotFoundException": NotFound}.get(code, AwsError)
        return kind(operation, code, message)
    return AwsError(operation, type(exc).__name__, _first_line(exc))


def _session(connection: Connection) -> Any:
    """A boto3 session for the connection's assumed role, or its profile, and region."""
    try:
        if connection.credentials is not None:
            key, secret, token = connection.credentials
            return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                         aws_session_token=token,
                                         region_name=connection.region)
        return boto3.session.Session(profile_name=connection.profile,
                                     region_name=connection.region)
    except BotoCoreError as exc:  # an unknown profile, a broken config file
        raise AwsError("Session", type(exc).__name__, str(exc)) from exc


def profile_region(connection: Connection) -> str | None:
    """The region of the connection's profile (or of the default one), if it names one."""
    region: str | None = _session(connection).region_name
    return region


class IotApi:
    """AWS IoT Jobs calls, paced, counted and with errors translated."""

    def __init__(self, connection: Connection, client: Any = None, sts: Any = None) -> None:
        session = _session(connection)
        config = Config(retries={"mode": connection.retry_mode,
                                 "max_attempts": connection.max_attempts},
                        max_pool_connections=20)
        self.region: str = connection.region or session.region_name or "us-east-1"
        self.client = client or _client(session, "iot", region_name=self.region,
                                               endpoint_url=connection.endpoint_url,
                                               config=config)
        self._sts = sts or _client(session, "sts", region_name=self.region,
                                          endpoint_url=connection.endpoint_url, config=config)
        self._session, self._endpoint_url, self._config = session, connection.endpoint_url, config
        self._tagging: Any = None
        self._cloudwatch: Any = None
        # AWS limits each Jobs API on its own (about 10 calls a second each).
        self.rate = connection.rate
        self.limiters: dict[str, RateLimiter] = {}
        self._limiters_lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._account: str | None = None

    def call(self, operation: str, *, client: Any = None, **params: Any) -> dict[str, Any]:
        method = getattr(client or self.client, xform_name(operation))
        self._limiter(operation).wait()
        with self._count_lock:
            self.calls[operation] += 1
        try:
            result: dict[str, Any] = method(**params)
            return result
        except (ClientError, BotoCoreError, ResponseParserError) as exc:
            raise translate(operation, exc) from exc

    def _limiter(self, operation: str) -> RateLimiter:
        with self._limiters_lock:
            if operation not in self.limiters:
                self.limiters[operation] = RateLimiter(self.rate)
            return self.limiters[operation]

    def known_account(self, account: str) -> None:
        """The account these credentials reach, checked already (no GetCallerIdentity)."""
        self._account = account

    def assume_role(self, role_arn: str, session: str) -> tuple[str, str, str]:
        """Temporary credentials of ``role_arn``, assumed from this client's credentials."""
        answer = self.call("AssumeRole", client=self._sts, RoleArn=role_arn,
                           RoleSessionName=f"rollouts-{session}"[:64])
        c = answer["Credentials"]
        return str(c["AccessKeyId"]), str(c["SecretAccessKey"]), str(c["SessionToken"])

    def account(self) -> str:
        if self._account is None:
            with self._count_lock:
                self.calls["GetCallerIdentity"] += 1
            try:
                self._account = str(self._sts.get_caller_identity()["Account"])
            except (ClientError, BotoCoreError, ResponseParserError) as exc:
                raise translate("GetCallerIdentity", exc) from exc
        return self._account

    # --- reads
    def _pages(self, operation: str, *, token_key: str = "nextToken", client: Any = None,
               **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a call that pages with ``token_key`` (IoT's nextToken, the tagging
        API's PaginationToken; an empty token ends the pages, as a missing one does)."""
        token: str | None = None
        while True:
            page = self.call(operation, client=client, **params,
                             **({token_key: token} if token else {}))
            yield page
            token = page.get(token_key)
            if not token:
                return

    def list_jobs(self, status: str | None = None) -> Iterator[dict[str, Any]]:
        """Every job's summary, or only those in ``status`` (the active ones are few; the
        finished ones are an account's whole history)."""
        for page in self._pages("ListJobs", maxResults=PAGE_SIZE,
                                **({"status": status} if status else {})):
            yield from page.get("jobs", [])

    def jobs_in_status(self, status: str) -> Iterator[dict[str, Any]]:
        """ListJobs' summaries of the jobs in one status (IN_PROGRESS, SCHEDULED, ...)."""
        for page in self._pages("ListJobs", maxResults=PAGE_SIZE, status=status):
            yield from page.get("jobs", [])

    def describe_job(self, job_id: str) -> dict[str, Any] | None:
        try:
            return self.call("DescribeJob", jobId=job_id)
        except NotFound:
            return None

    def job_document(self, job_id: str) -> str | None:
        try:
            return self.call("GetJobDocument", jobId=job_id).get("document")
        except NotFound:
            return None

    def tags(self, job_arn: str) -> dict[str, str]:
        return {t["Key"]: t.get("Value", "")
                for page in self._pages("ListTagsForResource", resourceArn=job_arn)
                for t in page.get("tags", [])}

    def tagged_jobs(self, tag_key: str, tag_value: str) -> dict[str, dict[str, str]]:
        """Tags of every IoT job whose ``tag_key`` is ``tag_value``, by ARN, from the Resource
        Groups Tagging API: up to 100 jobs a call where ListTagsForResource reads one. It
        lags behind TagResource, so callers read a job they miss one by one."""
        if self._tagging is None:
            self._tagging = _client(self._session, "resourcegroupstaggingapi",
                                                 region_name=self.region,
                                                 endpoint_url=self._endpoint_url,
                                                 config=self._config)
        return {item["ResourceARN"]: {t["Key"]: t.get("Value", "") for t in item.get("Tags", [])}
                for page in self._pages("GetResources", token_key="PaginationToken",
                                        client=self._tagging,
                                        ResourcesPerPage=TAGGING_PAGE_SIZE,
                                        ResourceTypeFilters=["iot:job"],
                                        TagFilters=[{"Key": tag_key,
                                                     "Values": [tag_value]}])
                for item in page.get("ResourceTagMappingList", [])}

    def thing_count(self, query: str) -> int:
        """Things of the Fleet Indexing index AWS_Things that match ``query`` (GetStatistics;
        an account without thing indexing answers an error)."""
        answer = self.call("GetStatistics", indexName="AWS_Things", queryString=query)
        return int(answer.get("statistics", {}).get("count", 0))

    def things_in_group(self, group: str, *, cap: int) -> tuple[int, bool]:
        """Things in a thing group and its child groups (ListThingsInThingGroup, recursive,
        paged), read up to ``cap``: the count, and whether it is all of them."""
        seen = 0
        for page in self._pages("ListThingsInThingGroup", thingGroupName=group,
                                recursive=True, maxResults=PAGE_SIZE):
            seen += len(page.get("things", []))
            if seen >= cap and page.get("nextToken"):
                return seen, False
        return seen, True

    def alarm_states(self, names: Collection[str]) -> dict[str, str]:
        """The state (OK, ALARM, INSUFFICIENT_DATA) of each named CloudWatch alarm, metric or
        composite, 100 names a call; a name that is no alarm is absent from the answer."""
        if self._cloudwatch is None:
            self._cloudwatch = _client(self._session, "cloudwatch", region_name=self.region,
                                       endpoint_url=self._endpoint_url, config=self._config)
        ordered = sorted(set(names))
        states: dict[str, str] = {}
        for start in range(0, len(ordered), ALARM_NAMES_PER_CALL):
            for page in self._pages("DescribeAlarms", token_key="NextToken",
                                    client=self._cloudwatch,
                                    AlarmNames=ordered[start:start + ALARM_NAMES_PER_CALL],
                                    AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                                    MaxRecords=ALARM_NAMES_PER_CALL):
                for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                    states[str(alarm["AlarmName"])] = str(alarm["StateValue"])
        return states


# --- S3, the ledger's home


class PreconditionFailed(AwsError):
    """A conditional PutObject lost a race: the object changed (or appeared) since it was read."""


# S3's answers to a conditional write that lost: 412, or 409 while another one is in flight.
_PRECONDITION_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412"})


class ObjectStore:
    """S3 objects read and written whole, paced, counted and with errors translated.

    ``get`` answers None for a missing key; a missing bucket is ``NotFound``; a conditional
    ``put`` that lost a race is ``PreconditionFailed``; anything else is ``AwsError``.
    """

    def __init__(self, connection: Connection, client: Any = None) -> None:
        if client is None:
            session = _session(connection)
            config = Config(retries={"mode": connection.retry_mode,
                                     "max_attempts": connection.max_attempts})
            client = _client(session, "s3", region_name=connection.region,
                                    endpoint_url=connection.endpoint_url, config=config)
        self.client = client
        self.limiter = RateLimiter(connection.rate)
        self.calls: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _request(self, operation: str, **params: Any) -> dict[str, Any]:
        self.limiter.wait()
        with self._count_lock:
            self.calls[operation] += 1
        try:
            answer: dict[str, Any] = getattr(self.client, xform_name(operation))(**params)
            if "Body" in answer:  # reading the body can fail too, and must be translated here
                answer["Body"] = answer["Body"].read()
            return answer
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            message = _first_line(Exception(error.get("Message", "") or exc))
            if code in _PRECONDITION_CODES:
                raise PreconditionFailed(operation, code, message) from exc
            if code in ("NoSuchKey", "NoSuchBucket", "404"):
                raise NotFound(operation, code, message) from exc
            raise translate(operation, exc) from exc
        except (BotoCoreError, ResponseParserError) as exc:  # no credentials, no answer
            raise translate(operation, exc) from exc

    def get(self, bucket: str, key: str) -> tuple[bytes, str] | None:
        """The object's body and ETag; None when the bucket holds no such key."""
        try:
            answer = self._request("GetObject", Bucket=bucket, Key=key)
        except NotFound as exc:
            if exc.aws_code == "NoSuchBucket":
                raise
            return None
        return bytes(answer["Body"]), str(answer["ETag"])

    def put(self, bucket: str, key: str, body: bytes, *, if_match: str | None = None,
            if_none_match: bool = False) -> None:
        """Write the object whole: only over the ETag ``if_match``, or only where none
        exists (``if_none_match``); a write that loses either race is PreconditionFailed."""
        condition = {**({"IfMatch": if_match} if if_match else {}),
                     **({"IfNoneMatch": "*"} if if_none_match else {})}
        try:
            self._request("PutObject", Bucket=bucket, Key=key, Body=body, **condition)
        except NotFound as exc:
            # If-Match on a key deleted since it was read: S3 answers NoSuchKey, a lost race.
            if exc.aws_code == "NoSuchBucket" or not if_match:
                raise
            raise PreconditionFailed("PutObject", exc.aws_code,
                                     "the object was deleted since it was read") from exc
