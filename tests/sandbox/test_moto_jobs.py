"""The moto additions behave as AWS IoT does, by botocore's own model of each operation:
every request they take passes botocore's parameter validation, every response carries
only the members of the operation's output shape with the right types, and every error
they answer is one the operation models."""

from __future__ import annotations

import datetime
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from engine.sandbox import moto_jobs, state

from ..conftest import ACCOUNT, REGION

MODEL = botocore.session.get_session().get_service_model("iot")
TAGGING_MODEL = botocore.session.get_session().get_service_model("resourcegroupstaggingapi")
TARGET = f"arn:aws:iot:{REGION}:{ACCOUNT}:thing/dev-1"
TYPES = {"string": str, "integer": int, "long": int, "boolean": bool, "double": (int, float),
         "timestamp": datetime.datetime, "structure": dict, "list": list, "map": dict}


def _check(value: Any, shape: Any, path: str) -> None:
    """``value`` fits botocore's shape: known members only, right types, all the way down."""
    assert isinstance(value, TYPES[shape.type_name]), f"{path}: {type(value).__name__}"
    if shape.type_name == "structure":
        for key, item in value.items():
            assert key in shape.members, f"{path}.{key} is not in {shape.name}"
            _check(item, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            _check(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            _check(item, shape.value, f"{path}.{key}")
    elif shape.type_name == "string" and shape.enum:
        assert value in shape.enum, f"{path}: {value} not in {shape.enum}"


def call(iot: Any, operation: str, **params: Any) -> dict[str, Any]:
    op = (TAGGING_MODEL if iot.meta.service_model.service_name == "resourcegroupstaggingapi"
          else MODEL).operation_model(operation)
    report = ParamValidator().validate(params, op.input_shape)
    assert not report.has_errors(), report.generate_report()
    answer: dict[str, Any] = getattr(iot, xform_name(operation))(**params)
    answer.pop("ResponseMetadata", None)
    if op.output_shape is not None:
        _check(answer, op.output_shape, operation)
    return answer


def error_of(iot: Any, operation: str, **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(iot, operation, **params)
    code = caught.value.response["Error"]["Code"]
    model = (TAGGING_MODEL if iot.meta.service_model.service_name == "resourcegroupstaggingapi"
             else MODEL)
    modeled = {shape.name for shape in model.operation_model(operation).error_shapes}
    assert code in modeled, f"{operation} does not model {code}"
    return str(code)


def create(iot: Any, job_id: str, **extra: Any) -> dict[str, Any]:
    return call(iot, "CreateJob", jobId=job_id, targets=[TARGET], document='{"op":"x"}', **extra)


def test_create_job__same_id_twice__already_exists_and_first_job_kept(iot: Any) -> None:
    create(iot, "j1", description="first")
    assert error_of(iot, "CreateJob", jobId="j1", targets=[TARGET], document="{}",
                    description="second") == "ResourceAlreadyExistsException"
    job = call(iot, "DescribeJob", jobId="j1")["job"]
    assert job["description"] == "first"


def test_create_job__keeps_tags_namespace_and_package_versions(iot: Any) -> None:
    arn = create(iot, "j1", tags=[{"Key": "team", "Value": "fw"}], namespaceId="ns1",
                 destinationPackageVersions=[
                     f"arn:aws:iot:{REGION}:{ACCOUNT}:package/p/version/1"])["jobArn"]
    assert call(iot, "ListTagsForResource", resourceArn=arn)["tags"] == [
        {"Key": "team", "Value": "fw"}]
    job = call(iot, "DescribeJob", jobId="j1")["job"]
    assert job["namespaceId"] == "ns1" and job["destinationPackageVersions"]


def test_update_job__changes_mutable_fields_of_an_active_job(iot: Any) -> None:
    create(iot, "j1", description="old")
    abort = {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                               "thresholdPercentage": 5.0, "minNumberOfExecutedThings": 1}]}
    call(iot, "UpdateJob", jobId="j1", description="new", abortConfig=abort,
         timeoutConfig={"inProgressTimeoutInMinutes": 5})
    job = call(iot, "DescribeJob", jobId="j1")["job"]
    assert job["description"] == "new" and job["abortConfig"] == abort
    assert job["timeoutConfig"] == {"inProgressTimeoutInMinutes": 5}


def test_update_job__unknown_or_finished_job__modeled_errors(iot: Any) -> None:
    assert error_of(iot, "UpdateJob", jobId="nope", description="x") == \
        "ResourceNotFoundException"
    create(iot, "j1")
    moto_jobs.set_job_status("j1", "COMPLETED")
    assert error_of(iot, "UpdateJob", jobId="j1", description="x") == "InvalidRequestException"


def test_tags__tag_untag_and_list_on_a_job_arn(iot: Any) -> None:
    arn = create(iot, "j1", tags=[{"Key": "a", "Value": "1"}])["jobArn"]
    call(iot, "TagResource", resourceArn=arn, tags=[{"Key": "b", "Value": "2"}])
    call(iot, "UntagResource", resourceArn=arn, tagKeys=["a"])
    assert call(iot, "ListTagsForResource", resourceArn=arn)["tags"] == [
        {"Key": "b", "Value": "2"}]
    missing = f"arn:aws:iot:{REGION}:{ACCOUNT}:job/nope"
    assert error_of(iot, "ListTagsForResource", resourceArn=missing) == \
        "ResourceNotFoundException"


@pytest.fixture
def tagging(aws: None) -> Any:
    import boto3

    return boto3.client("resourcegroupstaggingapi", region_name=REGION)


def test_get_resources__iot_jobs_with_a_tag_key__paged_as_modeled(iot: Any, tagging: Any) -> None:
    arns = {create(iot, f"j{i}", tags=[{"Key": "rollouts:name", "Value": f"r{i}"}])["jobArn"]
            for i in range(5)}
    create(iot, "untagged")
    create(iot, "other", tags=[{"Key": "team", "Value": "fw"}])
    seen: dict[str, list[dict[str, str]]] = {}
    token, pages = "", 0
    while True:
        page = call(tagging, "GetResources", ResourceTypeFilters=["iot:job"],
                    TagFilters=[{"Key": "rollouts:name"}], ResourcesPerPage=2,
                    **({"PaginationToken": token} if token else {}))
        pages += 1
        assert len(page["ResourceTagMappingList"]) <= 2
        seen |= {item["ResourceARN"]: item["Tags"] for item in page["ResourceTagMappingList"]}
        token = page["PaginationToken"]
        if not token:
            break
    assert set(seen) == arns and pages == 3
    assert all(tags == [{"Key": "rollouts:name", "Value": "r" + arn.rsplit("/j", 1)[1]}]
               for arn, tags in seen.items())
    only = call(tagging, "GetResources", ResourceTypeFilters=["iot:job"],
                TagFilters=[{"Key": "rollouts:name", "Values": ["r3"]}])
    assert [i["ResourceARN"] for i in only["ResourceTagMappingList"]] == [
        f"arn:aws:iot:{REGION}:{ACCOUNT}:job/j3"]


def test_get_resources__page_size_out_of_range__modeled_error(tagging: Any) -> None:
    assert error_of(tagging, "GetResources", ResourceTypeFilters=["iot:job"],
                    ResourcesPerPage=101) == "InvalidParameterException"


def test_list_jobs__pages_through_every_job_and_filters_by_status(iot: Any) -> None:
    for i in range(7):
        create(iot, f"j{i}")
    moto_jobs.set_job_status("j3", "CANCELED")
    seen, token = [], None
    while True:
        page = call(iot, "ListJobs", maxResults=3, **({"nextToken": token} if token else {}))
        assert len(page["jobs"]) <= 3
        seen += [job["jobId"] for job in page["jobs"]]
        token = page.get("nextToken")
        if not token:
            break
    assert sorted(seen) == [f"j{i}" for i in range(7)]
    assert [j["jobId"] for j in call(iot, "ListJobs", status="CANCELED")["jobs"]] == ["j3"]
    assert len(call(iot, "ListJobs", status="IN_PROGRESS", maxResults=250)["jobs"]) == 6


def test_get_job_document_and_describe__unknown_job__not_found(iot: Any) -> None:
    assert error_of(iot, "GetJobDocument", jobId="nope") == "ResourceNotFoundException"
    assert error_of(iot, "DescribeJob", jobId="nope") == "ResourceNotFoundException"
    create(iot, "j1")
    assert call(iot, "GetJobDocument", jobId="j1")["document"] == '{"op":"x"}'


def test_cancel_job__then_status_canceled_and_completed_cannot_be_canceled(iot: Any) -> None:
    create(iot, "j1")
    call(iot, "CancelJob", jobId="j1", reasonCode="ROLLOUTS", comment="test")
    assert call(iot, "DescribeJob", jobId="j1")["job"]["status"] == "CANCELED"
    create(iot, "j2")
    moto_jobs.set_job_status("j2", "COMPLETED")
    assert error_of(iot, "CancelJob", jobId="j2") == "InvalidRequestException"


def test_scheduled_job__is_scheduled_until_it_starts(iot: Any) -> None:
    create(iot, "j1", schedulingConfig={"startTime": "2027-06-01T22:00"})
    assert call(iot, "DescribeJob", jobId="j1")["job"]["status"] == "SCHEDULED"


def test_export_and_import__a_job_survives_with_its_tags_status_and_times(iot: Any) -> None:
    arn = create(iot, "j1", tags=[{"Key": "a", "Value": "1"}])["jobArn"]
    moto_jobs.set_job_status("j1", "CANCELED")
    before = call(iot, "DescribeJob", jobId="j1")["job"]
    records = state.export_jobs(ACCOUNT, REGION)
    moto_jobs.backend(ACCOUNT, REGION).jobs.clear()
    state.import_jobs(records, ACCOUNT, REGION)
    after = call(iot, "DescribeJob", jobId="j1")["job"]
    assert after == before
    assert call(iot, "ListTagsForResource", resourceArn=arn)["tags"] == [
        {"Key": "a", "Value": "1"}]
